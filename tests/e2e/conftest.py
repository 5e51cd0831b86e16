from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from harness.claude_cli import find_claude
from harness.sdk_clients import close_all


@pytest.fixture(autouse=True)
def _close_sdk_clients() -> Iterator[None]:
    yield
    close_all()


@pytest.fixture(scope="session")
def claude_bin() -> str:
    binary = find_claude()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("the Claude Code CLI is required in CI (tests/run.py installs it)")
        pytest.skip("Claude Code CLI not installed (needs Node and npm; run tests/run.py)")
    return binary
