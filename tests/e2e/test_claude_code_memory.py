"""The original's memory scenario through the real Claude Code CLI, in two separate sessions
(two ``claude -p`` runs, the same user and project): a preference stated in the first reaches
the model's request in the second, checked in what the fake model received."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from harness.claude_cli import run_claude
from harness.fake_model import FakeModel
from harness.proxy import provider_env
from harness.servers import lynkr_state, serve_asgi, serve_state
from harness.wire import Reply, ToolCall

from lynkr.server.state import AppState

pytestmark = pytest.mark.e2e
PREFERENCE = "I prefer Python for data processing."
QUESTION = "What language should I use for data tasks?"
SEARCHED = re.compile(r"#\d+ \(preference, \d{4}-\d\d-\d\d\) " + re.escape(PREFERENCE))


def answer(body: dict[str, Any]) -> Reply:
    return Reply(text="Python, as you prefer." if "<lynkr-memory>" in str(body) else "Noted.")


def wait_learnt(state: AppState, stored: int, timeout: float = 20.0) -> None:
    assert state.memory is not None
    deadline = time.monotonic() + timeout
    while state.memory.counts.stored < stored:
        assert time.monotonic() < deadline, state.memory.counts
        time.sleep(0.05)


def main_requests(fake: FakeModel) -> list[dict[str, Any]]:
    """The CLI's own requests (with its tools), not its side requests."""
    return [c.body for c in fake.calls if c.body.get("tools")]


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_a_preference_from_one_session_reaches_the_model_in_the_next(
    dialect: str, tmp_path: Path, claude_bin: str
) -> None:
    workspace, home = tmp_path / "project", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    fake = FakeModel(answer)
    with serve_asgi(fake) as upstream:
        state = lynkr_state(
            {
                **provider_env(dialect, upstream),
                "LOG_LEVEL": "warning",
                "MEMORY_DB_PATH": str(tmp_path / "memory.db"),
            }
        )
        with serve_state(state) as url:
            first = run_claude(claude_bin, url, PREFERENCE, workspace, home)
            assert first.returncode == 0, first.stderr[-3000:]
            wait_learnt(state, 1)
            seen = len(fake.calls)
            second = run_claude(claude_bin, url, QUESTION, workspace, home)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.result["result"] == "Python, as you prefer."
    before = [c.body for c in fake.calls[:seen] if c.body.get("tools")]
    after = [c.body for c in fake.calls[seen:] if c.body.get("tools")]
    assert before and after
    assert "<lynkr-memory>" not in orjson.dumps(before[0]["messages"]).decode()
    sent = orjson.dumps(after[0]["messages"]).decode()
    assert "<lynkr-memory>" in sent and PREFERENCE in sent and QUESTION in sent
    system = orjson.dumps(after[0].get("system", "")).decode()
    assert "<lynkr-memory>" not in system  # into the user's turn, never the system prompt


def _called(body: dict[str, Any]) -> bool:
    """Whether the model already called memory_search in this request's history."""
    return (
        "memory_search"
        in orjson.dumps([m for m in body["messages"] if m["role"] == "assistant"]).decode()
    )


def searching(body: dict[str, Any]) -> Reply:
    """The model: in a request offering memory_search, it searches first, then answers from
    what the search returned."""
    names = [t.get("name") or t.get("function", {}).get("name") for t in body.get("tools", ())]
    if "memory_search" not in names:
        return Reply(text="Noted.")
    if not _called(body):
        return Reply(
            text="Let me check what I remember.",
            tool_calls=(ToolCall("memory_search", {"query": "language for data"}, id="call_m1"),),
        )
    found = SEARCHED.search(orjson.dumps(body["messages"]).decode()) is not None
    return Reply(text="You prefer Python." if found else "I found nothing.")


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_memory_search_called_by_the_model_returns_the_preference(
    dialect: str, tmp_path: Path, claude_bin: str
) -> None:
    """The tool loop runs memory_search for the model, in the asking user's scope; Claude
    Code sees one answer."""
    workspace, home = tmp_path / "project", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    fake = FakeModel(searching)
    with serve_asgi(fake) as upstream:
        state = lynkr_state(
            {
                **provider_env(dialect, upstream),
                "LOG_LEVEL": "warning",
                "MEMORY_DB_PATH": str(tmp_path / "memory.db"),
            }
        )
        with serve_state(state) as url:
            first = run_claude(claude_bin, url, PREFERENCE, workspace, home)
            assert first.returncode == 0, first.stderr[-3000:]
            wait_learnt(state, 1)
            seen = len(fake.calls)
            second = run_claude(
                claude_bin, url, "Which language do I like for data?", workspace, home
            )
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.result["result"].endswith("You prefer Python.")
    after = [c.body for c in fake.calls[seen:] if _called(c.body)]
    assert after, "the model's memory_search never came back to it"
    # the tool's own result (memory_search's format, not the injected block's "- (preference)")
    assert SEARCHED.search(orjson.dumps(after[0]["messages"]).decode())
