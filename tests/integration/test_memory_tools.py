"""The memory tools executed against the real store: search, add, forget, stats, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.config.memory import MemorySettings
from lynkr.memory.store import SqliteMemoryStore
from lynkr.memory.tools import MEMORY_TOOLS, NAMES, ToolOutcome, run_tool
from lynkr.model.memory import Scope
from lynkr.tools.memory import MemoryToolBox
from lynkr.tools.port import ToolBox, ToolContext
from lynkr.tools.port import ToolOutcome as PortOutcome

ALICE, BOB = Scope("alice", "/w"), Scope("bob", "/w")
NOW = 1_790_000_000.0  # 2026-09-21


@pytest.fixture
def store(tmp_path: Path):
    memory = SqliteMemoryStore(tmp_path / "m.db", MemorySettings())
    yield memory
    memory.close()


def test_definitions() -> None:
    assert [t.name for t in MEMORY_TOOLS] == ["memory_search", "memory_add", "memory_forget",
                                              "memory_stats"]
    assert {t.name for t in MEMORY_TOOLS} == NAMES
    for tool in MEMORY_TOOLS:
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False


async def test_add_search_stats_forget(store: SqliteMemoryStore) -> None:
    added = await run_tool("memory_add", {"text": "I prefer Python for data processing",
                                          "type": "preference", "importance": 0.9},
                           store, ALICE, NOW, session_id="s", request_id="r")
    assert added == ToolOutcome("Remembered as #1.")
    await run_tool("memory_add", {"text": "Tabs, never spaces", "type": "preference",
                                  "global": True}, store, ALICE, NOW)
    found = await run_tool("memory_search", {"query": "which language for data tasks"},
                           store, ALICE, NOW)
    assert found == ToolOutcome("#1 (preference, 2026-09-21) I prefer Python for data processing")
    assert (await run_tool("memory_stats", {}, store, ALICE, NOW)) == ToolOutcome(
        "2 memories: 2 preference (1 global).")
    assert await run_tool("memory_search", {"query": "python"}, store, BOB, NOW) == ToolOutcome(
        "No memories match.")
    assert await run_tool("memory_forget", {"id": 1}, store, BOB, NOW) == ToolOutcome(
        "No memory #1 to forget.", is_error=True)
    assert await run_tool("memory_forget", {"id": 1}, store, ALICE, NOW) == ToolOutcome(
        "Forgot memory #1.")
    assert (await run_tool("memory_stats", {}, store, ALICE, NOW)).text.startswith("1 memories")


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("memory_add", {"text": "my password is hunter2!!", "type": "fact"}, "secret (password)"),
    ("memory_add", {"text": "x", "type": "opinion"}, "'type' (one of preference"),
    ("memory_add", {"text": "x", "type": "fact", "importance": "high"}, "'importance' must"),
    ("memory_add", {"text": "   ", "type": "fact"}, "needs some text"),
    ("memory_search", {"query": ""}, "non-empty 'query'"),
    ("memory_search", {"query": "x", "limit": 99}, "from 1 to 20"),
    ("memory_forget", {"id": "1"}, "integer 'id'"),
    ("memory_delete", {}, "unknown memory tool 'memory_delete'"),
])
async def test_bad_calls_are_error_results(store: SqliteMemoryStore, name: str,
                                           arguments: dict[str, object], message: str) -> None:
    outcome = await run_tool(name, arguments, store, ALICE, NOW)
    assert outcome.is_error and message in outcome.text
    assert (await store.stats(ALICE)).total == 0


async def test_the_tool_box_runs_calls_in_the_contexts_scope(store: SqliteMemoryStore) -> None:
    box: ToolBox = MemoryToolBox(store)
    assert (box.name, box.tools()) == ("memory", MEMORY_TOOLS)
    alice = ToolContext("req_1", "s1", "alice", "/w", NOW)
    added = await box.run("memory_add", {"text": "I prefer Python for data processing",
                                         "type": "preference"}, alice)
    assert added == PortOutcome("Remembered as #1.")
    found = await box.run("memory_search", {"query": "language for data tasks"}, alice)
    assert "I prefer Python for data processing" in found.text and not found.is_error
    bob = ToolContext("req_2", "s2", "bob", "/w", NOW)
    assert await box.run("memory_search", {"query": "data processing"}, bob) == PortOutcome(
        "No memories match.")
    assert (await box.run("memory_forget", {"id": 1}, bob)).is_error
    refused = await box.run("memory_add", {"text": "my password is hunter22hunter",
                                           "type": "fact"}, alice)
    assert refused.is_error and "secret" in refused.text
