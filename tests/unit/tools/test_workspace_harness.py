"""The test harness's pure parts: the detected command, and counts read from each runner's
output (as the runners print them)."""

from __future__ import annotations

import pytest

from lynkr.tools.workspace.harness import Counts, detect_command, parse_counts, status_of, tail


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        (
            "....F.s\n=========== 1 failed, 5 passed, 1 skipped in 0.42s ===========\n",
            Counts(5, 1, 1),
        ),
        ("5 passed in 0.10s\n", Counts(5, 0, 0)),
        ("==== 2 passed, 1 error in 1.1s ====\n", Counts(2, 1, 0)),
        (
            "Test Suites: 1 failed, 2 passed, 3 total\nTests:       1 failed, 7 passed, 8 total\n"
            "Snapshots:   0 total\n",
            Counts(7, 1, 0),
        ),
        ("Tests:       2 skipped, 4 passed, 6 total\n", Counts(4, 0, 2)),
        (" Test Files  1 passed (1)\n      Tests  3 passed (3)\n", Counts(3, 0, 0)),
        ("  12 passing (30ms)\n  2 pending\n  1 failing\n\n  1) suite\n", Counts(12, 1, 2)),
        ("Finished in 0.1 seconds\n10 examples, 2 failures, 1 pending\n", Counts(7, 2, 1)),
        (
            "ok  \texample.com/a\t0.01s\nFAIL\texample.com/b\t0.02s\n?   \texample.com/c\t[no test "
            "files]\nFAIL\n",
            Counts(1, 1, 1),
        ),
        ("no recognisable summary\n", Counts()),
        ("", Counts()),
    ],
)
def test_counts_from_each_runner(output: str, counts: Counts) -> None:
    assert parse_counts(output) == counts


@pytest.mark.parametrize(
    ("names", "scripts", "command"),
    [
        (["package.json"], {"test": "jest"}, "npm test"),
        (["package.json"], {"build": "tsc"}, None),
        (["go.mod", "main.go"], {}, "go test ./..."),
        (["Cargo.toml"], {}, "cargo test"),
        (["pyproject.toml", "src"], {}, "python3 -m pytest -q"),
        (["tests", "setup.py"], {}, "python3 -m pytest -q"),
        (["Gemfile", "spec"], {}, "bundle exec rspec"),
        (["README.md"], {}, None),
    ],
)
def test_detected_command(names: list[str], scripts: dict[str, str], command: str | None) -> None:
    assert detect_command(names, scripts) == command


def test_status_and_tail() -> None:
    assert [status_of(c) for c in (0, 1, None)] == ["passed", "failed", "timed out"]
    assert tail("abcdef", 3) == "…def"
    assert tail("abc", 3) == "abc"
