"""The tool loop through the real app in-process, on trio's virtual clock: a scripted
``Upstream`` behind the port and the test ToolBox. The loop is bounded by ``POLICY_MAX_STEPS``
even for a model that never stops calling tools, and a tool that never answers is stopped by
``TOOL_TIMEOUT_MS`` without a real second passing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from harness.events import end, text_block, tool
from harness.tool_boxes import EchoBox
from test_flow import Client, ScriptedUpstream, call, state

from lynkr.config.tools import ToolLoopSettings
from lynkr.formats.anthropic.sse import SseParser
from lynkr.model.content import OpaqueBlock
from lynkr.model.events import BlockStart, BlockStop, Event, MessageDelta, MessageStart, Usage
from lynkr.model.request import Request, Tool
from lynkr.ports import Answering, ParseContext, UpstreamCall
from lynkr.server.tool_loop import Tooling
from lynkr.tools.offer import Offer, Offered
from lynkr.tools.port import ToolContext

BASH = {
    "name": "Bash",
    "description": "Run a command.",
    "input_schema": {"type": "object", "properties": {}},
}


class Recording(ScriptedUpstream):
    """Keeps every request the loop prepared (``requests``)."""

    def __init__(self, script: Any) -> None:
        super().__init__("ollama", script)
        self.requests: list[Request] = []

    def prepare(self, request: Request, answering: Answering) -> UpstreamCall:
        self.requests.append(request)
        return super().prepare(request, answering)


def calling(name: str, delay: float = 1.0) -> Any:
    """A model that answers every call with a call to ``name`` (a fresh id each time)."""
    count = iter(range(1000))

    def script(context: ParseContext) -> list[tuple[float, list[Event]]]:
        n = next(count)
        return [
            (delay, [MessageStart(context.message_id, context.model, Usage(10))]),
            (
                delay,
                [
                    *text_block(0, f"step {n}"),
                    BlockStop(0),
                    *tool(1, f"call_{n}", name, '{"text":"again"}'),
                ],
            ),
            (0, end("tool_use", Usage(10, 2))),
        ]

    return script


def events_of(client: Client) -> list[Event]:
    return SseParser().feed(client.body_bytes)


@pytest.mark.parametrize("max_steps", [1, 3, 8])
async def test_a_model_that_never_stops_is_cut_at_policy_max_steps(
    tmp_path: Path, max_steps: int, autojump_clock: trio.testing.MockClock
) -> None:
    upstream = Recording(calling("lynkr_echo"))
    app_state = state(tmp_path, {"ollama": upstream}, POLICY_MAX_STEPS=str(max_steps))
    box = EchoBox()
    app_state.toolboxes = (box,)
    client = Client(
        {
            "model": "claude-x",
            "max_tokens": 50,
            "stream": True,
            "tools": [BASH],
            "messages": [{"role": "user", "content": "go"}],
        }
    )
    await call(app_state, client)
    assert len(upstream.calls) == max_steps
    assert len(box.calls) == max_steps - 1  # the last step's call is answered "not run"
    events = events_of(client)
    assert sum(isinstance(e, MessageStart) for e in events) == 1
    [delta] = [e for e in events if isinstance(e, MessageDelta)]
    assert delta.stop_reason == "end_turn"
    assert delta.usage == Usage(10 * max_steps, 2 * max_steps)
    results = [
        e.block.raw
        for e in events
        if isinstance(e, BlockStart)
        and isinstance(e.block, OpaqueBlock)
        and e.block.type == "lynkr_tool_result"
    ]
    assert len(results) == max_steps
    assert results[-1]["is_error"] is True
    assert "POLICY_MAX_STEPS" in results[-1]["content"][0]["text"]
    assert all(r["is_error"] is False for r in results[:-1])
    # each model call repeats the one before it and adds the turn and its results
    for before, after in zip(upstream.requests, upstream.requests[1:], strict=False):
        assert after.messages[: len(before.messages)] == before.messages
        assert len(after.messages) == len(before.messages) + 2
    # the virtual clock: two 1 s reads per model call, nothing else waited
    assert trio.current_time() == pytest.approx(2.0 * max_steps)


async def test_a_tool_that_never_answers_is_stopped_by_its_timeout(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    caplog.set_level(logging.INFO, "lynkr")
    upstream = Recording(calling("lynkr_stall", delay=0))
    app_state = state(tmp_path, {"ollama": upstream}, POLICY_MAX_STEPS="2", TOOL_TIMEOUT_MS="45000")
    app_state.toolboxes = (EchoBox(),)
    client = Client(
        {
            "model": "claude-x",
            "max_tokens": 50,
            "stream": True,
            "tools": [BASH],
            "messages": [{"role": "user", "content": "go"}],
        }
    )
    await call(app_state, client)
    assert client.status == 200
    assert trio.current_time() == pytest.approx(45.0)
    results = upstream.requests[1].messages[-1].content
    assert results[0].is_error is True
    assert "did not finish within 45s" in results[0].text()
    [line] = [r for r in caplog.records if r.getMessage() == "tool call"]
    assert (line.tool, line.box, line.outcome, line.step) == ("lynkr_stall", "test", "timeout", 1)
    [request_line] = [r for r in caplog.records if r.getMessage() == "request"]
    assert request_line.tool_steps == 2
    assert request_line.tool_calls == ["lynkr_stall:timeout:45000.0ms"]


async def test_no_box_no_change(tmp_path: Path) -> None:
    upstream = Recording(calling("lynkr_echo", delay=0))
    client = Client(
        {
            "model": "claude-x",
            "max_tokens": 50,
            "stream": True,
            "tools": [BASH],
            "messages": [{"role": "user", "content": "go"}],
        }
    )
    await call(state(tmp_path, {"ollama": upstream}), client)
    assert len(upstream.calls) == 1
    assert [t.name for t in upstream.requests[0].tools] == ["Bash"]
    assert b"x-lynkr-tools" not in client.headers
    blocks = [e.block for e in events_of(client) if isinstance(e, BlockStart)]
    assert [type(b).__name__ for b in blocks] == ["TextBlock", "ToolUseBlock"]


def test_the_header_names_the_mode_the_offer_and_what_was_skipped() -> None:
    tooling = Tooling(
        ToolLoopSettings(),
        Offer((Offered("web", Tool("web_fetch")),), ("web_search",)),
        {},
        None,
        "sid:x",
        0,
        frozenset(),
        ToolContext("r", None, "u", "", 0.0),
        1,
    )
    assert tooling.header() == (
        "mode=server; offered=web_fetch; skipped=web_search (the client has its own); restored=1"
    )
