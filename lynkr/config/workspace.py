"""Workspace tool settings: the original's ``WORKSPACE_ROOT``, ``WORKSPACE_TEST_*`` and
``POLICY_GIT_*`` variables with its defaults, plus where the tools keep their SQLite file.

Read from ``Settings.environ`` (``workspace_settings(Env(settings.environ))``), so nothing else
in the configuration has to know about the workspace tools. ``root`` is None unless
``WORKSPACE_ROOT`` is set: the tools are offered only then (the original defaulted to the
process's directory; a proxy serving many clients should not expose its own directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError
from lynkr.config.routing import flag

if TYPE_CHECKING:
    from lynkr.config.settings import Env

DEFAULT_COVERAGE = ("coverage/coverage-summary.json",)


@attrs.frozen
class WorkspaceSettings:
    root: str | None = None  # WORKSPACE_ROOT: unset, no workspace tools
    test_command: str | None = None  # WORKSPACE_TEST_COMMAND: else detected from the project
    test_timeout_s: float = 600.0  # WORKSPACE_TEST_TIMEOUT_MS
    coverage_files: tuple[str, ...] = DEFAULT_COVERAGE  # WORKSPACE_TEST_COVERAGE_FILES
    git_allow_push: bool = False  # POLICY_GIT_ALLOW_PUSH
    git_require_tests: bool = False  # POLICY_GIT_REQUIRE_TESTS
    git_test_command: str | None = None  # POLICY_GIT_TEST_COMMAND: run before each commit
    # new in Lynkr (Python)
    db_path: str = "data/workspace.db"  # WORKSPACE_DB_PATH: test history and tasks


def workspace_settings(env: Env) -> WorkspaceSettings:
    root = env.str("WORKSPACE_ROOT")
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise SettingsError(f"WORKSPACE_ROOT must be an existing directory, got {root!r}")
        root = str(path.resolve())
    coverage = env.str("WORKSPACE_TEST_COVERAGE_FILES")
    files = (
        DEFAULT_COVERAGE
        if coverage is None
        else tuple(p.strip() for p in coverage.split(",") if p.strip())
    )
    return WorkspaceSettings(
        root=root,
        test_command=env.str("WORKSPACE_TEST_COMMAND"),
        test_timeout_s=env.int("WORKSPACE_TEST_TIMEOUT_MS", 600_000, minimum=1000) / 1000,
        coverage_files=files,
        git_allow_push=flag(env, "POLICY_GIT_ALLOW_PUSH", False),
        git_require_tests=flag(env, "POLICY_GIT_REQUIRE_TESTS", False),
        git_test_command=env.str("POLICY_GIT_TEST_COMMAND"),
        db_path=env.str("WORKSPACE_DB_PATH", "data/workspace.db") or "data/workspace.db",
    )
