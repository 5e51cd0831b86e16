"""The test harness: which command runs the workspace's tests, and what its output says.

Pure: ``detect_command`` looks at the top-level file names, ``parse_counts`` at the output.
Guarantees: the command is only ever the configured one (``WORKSPACE_TEST_COMMAND``,
``POLICY_GIT_TEST_COMMAND``) or one detected from the project's own files, never text from the
model. Counts parsing never raises; unknown output gives zero counts and the exit code decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

OUTPUT_TAIL = 4000  # characters of output kept per run in the history

_PYTEST = ("pytest.ini", "conftest.py", "tox.ini", "setup.cfg", "pyproject.toml")
_COUNT = re.compile(
    r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|passing|failing|"
    r"pending|examples?|failures?)\b"
)
_JEST = re.compile(r"^Tests:\s+(.*)$", re.MULTILINE)
_GO_PACKAGE = re.compile(r"^(ok|FAIL|\?)\s+\S+", re.MULTILINE)


@attrs.frozen
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def detect_command(top_level: Iterable[str], package_scripts: dict[str, str]) -> str | None:
    names = set(top_level)
    if "test" in package_scripts:
        return "npm test"
    if "go.mod" in names:
        return "go test ./..."
    if "Cargo.toml" in names:
        return "cargo test"
    if names & set(_PYTEST) or "tests" in names:
        return "python3 -m pytest -q"
    if "Gemfile" in names and "spec" in names:
        return "bundle exec rspec"
    return None


def _tally(pairs: Iterable[tuple[str, str]]) -> Counts:
    passed = failed = skipped = 0
    examples = failures = None
    for number, word in pairs:
        value = int(number)
        if word in ("passed", "passing", "xpassed"):
            passed += value
        elif word in ("failed", "failing", "error", "errors"):
            failed += value
        elif word in ("skipped", "pending", "xfailed"):
            skipped += value
        elif word.startswith("example"):
            examples = value
        elif word.startswith("failure"):
            failures = value
    if examples is not None:  # RSpec: "N examples, M failures, K pending"
        failed = failures or 0
        passed = examples - failed - skipped
    return Counts(passed, failed, skipped)


def parse_counts(output: str) -> Counts:
    """Passed/failed/skipped from pytest, Jest, Vitest, Mocha, RSpec or ``go test``."""
    jest = _JEST.findall(output)
    if jest:
        return _tally(_COUNT.findall(jest[-1]))
    for line in reversed(output.splitlines()[-40:]):
        found = _COUNT.findall(line)
        if found and any(
            w in ("passed", "failed", "examples", "example", "errors", "error") for _, w in found
        ):
            return _tally(found)
    mocha = [m for m in _COUNT.findall(output[-4000:]) if m[1] in ("passing", "failing", "pending")]
    if mocha:
        return _tally(mocha)
    packages = _GO_PACKAGE.findall(output)
    if packages:
        return Counts(packages.count("ok"), packages.count("FAIL"), packages.count("?"))
    return Counts()


def status_of(returncode: int | None) -> str:
    return "timed out" if returncode is None else "passed" if returncode == 0 else "failed"


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]
