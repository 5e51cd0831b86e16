"""WORKSPACE_* and POLICY_GIT_* settings: the original's defaults (no root unless set), every
variable read, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.config.errors import SettingsError
from lynkr.config.settings import Env
from lynkr.config.workspace import WorkspaceSettings, workspace_settings


def test_defaults_are_the_originals_and_no_root() -> None:
    got = workspace_settings(Env({}))
    assert got == WorkspaceSettings()
    assert (got.root, got.test_command, got.test_timeout_s, got.coverage_files) == (
        None,
        None,
        600.0,
        ("coverage/coverage-summary.json",),
    )
    assert (got.git_allow_push, got.git_require_tests, got.git_test_command, got.db_path) == (
        False,
        False,
        None,
        "data/workspace.db",
    )


def test_every_variable_is_read(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "repo")
    got = workspace_settings(
        Env(
            {
                "WORKSPACE_ROOT": str(tmp_path / "link"),
                "WORKSPACE_TEST_COMMAND": "make test",
                "WORKSPACE_TEST_TIMEOUT_MS": "5000",
                "WORKSPACE_TEST_COVERAGE_FILES": " cov/a.json, ,coverage.json ",
                "POLICY_GIT_ALLOW_PUSH": "true",
                "POLICY_GIT_REQUIRE_TESTS": "TRUE",
                "POLICY_GIT_TEST_COMMAND": "pytest -q",
                "WORKSPACE_DB_PATH": "/var/lib/lynkr/w.db",
            }
        )
    )
    assert got == WorkspaceSettings(
        str(tmp_path / "repo"),
        "make test",
        5.0,
        ("cov/a.json", "coverage.json"),
        True,
        True,
        "pytest -q",
        "/var/lib/lynkr/w.db",
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WORKSPACE_ROOT", "/no/such/folder", "WORKSPACE_ROOT must be an existing directory"),
        ("WORKSPACE_TEST_TIMEOUT_MS", "soon", "WORKSPACE_TEST_TIMEOUT_MS must be a whole number"),
        ("WORKSPACE_TEST_TIMEOUT_MS", "10", "WORKSPACE_TEST_TIMEOUT_MS must be at least 1000"),
        ("POLICY_GIT_ALLOW_PUSH", "sometimes", "POLICY_GIT_ALLOW_PUSH must be true or false"),
        ("POLICY_GIT_REQUIRE_TESTS", "2", "POLICY_GIT_REQUIRE_TESTS must be true or false"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        workspace_settings(Env({name: value}))
