"""The tool loop through the real app in-process, on trio's virtual clock: a scripted
``Upstream`` behind the port and the test ToolBox. The loop is bounded by ``POLICY_MAX_STEPS``
even for a model that never stops calling tools, and a tool that never answers is stopped by
``TOOL_TIMEOUT_MS`` without a real second passing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from harness.events import end, text_block, tool
from harness.tool_boxes import EchoBox
from test_flow import Client, ScriptedUpstream, call, logged, state

from lynkr.config.tools import ToolLoopSettings
from lynkr.formats.anthropic.sse import SseParser
from lynkr.model.content import OpaqueBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    StreamError,
    TextDelta,
    Usage,
)
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


def live_tasks() -> int:
    """Every task alive in the run, the root's descendants counted."""

    def count(task: trio.lowlevel.Task) -> int:
        return 1 + sum(count(t) for n in task.child_nurseries for t in n.child_tasks)

    return count(trio.lowlevel.current_root_task())


class Watched(Recording):
    """Notes, at each read of each answer, the task reading it and the tasks alive
    (``reads``); ``coalesced`` is the streams' ``coalesced_reads`` (the lean transport's)."""

    def __init__(self, script: Any, coalesced: bool = False) -> None:
        super().__init__(script)
        self.coalesced = coalesced
        self.reads: list[tuple[trio.lowlevel.Task, int]] = []

    @asynccontextmanager
    async def open(self, call: UpstreamCall) -> AsyncIterator[AsyncIterator[list[Event]]]:
        async with super().open(call) as batches:
            yield _Reads(batches, self)


class _Reads:
    def __init__(self, batches: AsyncIterator[list[Event]], upstream: Watched) -> None:
        self._batches = batches
        self._upstream = upstream
        self.coalesced_reads = upstream.coalesced

    def __aiter__(self) -> _Reads:
        return self

    async def __anext__(self) -> list[Event]:
        self._upstream.reads.append((trio.lowlevel.current_task(), live_tasks()))
        return await anext(self._batches)


def plain(context: ParseContext) -> list[tuple[float, list[Event]]]:
    """An answer that calls no tool, a read a second."""
    return [
        (1, [MessageStart(context.message_id, context.model, Usage(10))]),
        (1, text_block(0, "one")),
        (1, [TextDelta(0, " two")]),
        (1, [TextDelta(0, " three")]),
        (1, [BlockStop(0), *end("end_turn", Usage(10, 3))]),
    ]


def go(tools: bool) -> Client:
    return Client(
        {
            "model": "claude-x",
            "max_tokens": 50,
            "stream": True,
            **({"tools": [BASH]} if tools else {}),
            "messages": [{"role": "user", "content": "go"}],
        }
    )


@pytest.mark.parametrize("coalesced", [False, True])
async def test_an_answer_calling_none_of_lynkrs_tools_costs_the_loop_no_task(
    tmp_path: Path, coalesced: bool, autojump_clock: trio.testing.MockClock
) -> None:
    runs = {}
    for tools in (False, True):
        upstream = Watched(plain, coalesced)
        app_state = state(tmp_path / str(tools), {"ollama": upstream})
        app_state.toolboxes = (EchoBox(),)
        client = go(tools)
        await call(app_state, client)
        assert (b"x-lynkr-tools" in client.headers) is tools  # the loop takes part, or not
        runs[tools] = (upstream.reads, events_of(client))
    (without, answer_without), (with_loop, answer_with) = runs[False], runs[True]
    assert answer_with[1:] == answer_without[1:]  # the same answer (a fresh id)
    assert len(with_loop) == len(without) == 6  # five reads, and the one that finds the end
    # the reads after the first (which comes before the answer starts): no task more than an
    # answer outside the loop, and read by the egress's own task (the request's, when it
    # reads itself: a stream whose every read holds all that arrived)
    assert [n for _, n in with_loop[1:]] == [n for _, n in without[1:]]
    assert [t.name for t, _ in with_loop[1:]] == [t.name for t, _ in without[1:]]
    if coalesced:
        assert {t for t, _ in with_loop} == {trio.lowlevel.current_task()}


def echo_then_text() -> Any:
    """A model whose first call calls ``lynkr_echo`` after some text; the second answers."""
    count = iter(range(1000))

    def script(context: ParseContext) -> list[tuple[float, list[Event]]]:
        if next(count) == 0:
            return [
                (1, [MessageStart(context.message_id, context.model, Usage(10))]),
                (1, [*text_block(0, "looking"), BlockStop(0)]),
                (1, [*tool(1, "call_1", "lynkr_echo", '{"text":"hi"}')]),
                (1, end("tool_use", Usage(10, 2))),
            ]
        return [
            (1, [MessageStart(context.message_id, context.model, Usage(20))]),
            (1, [*text_block(0, "found it"), BlockStop(0), *end("end_turn", Usage(20, 3))]),
        ]

    return script


@pytest.mark.parametrize("coalesced", [False, True])
async def test_a_call_to_lynkrs_tool_in_the_first_step_still_runs_the_second(
    tmp_path: Path, coalesced: bool, autojump_clock: trio.testing.MockClock
) -> None:
    upstream = Watched(echo_then_text(), coalesced)
    app_state = state(tmp_path, {"ollama": upstream})
    box = EchoBox()
    app_state.toolboxes = (box,)
    client = go(tools=True)
    await call(app_state, client)
    assert len(upstream.calls) == 2
    assert [(name, args) for name, args, _ in box.calls] == [("lynkr_echo", {"text": "hi"})]
    assert upstream.requests[1].messages[-1].content[0].text() == "echo: hi"
    events = events_of(client)
    assert sum(isinstance(e, MessageStart) for e in events) == 1
    starts = [
        (e.index, getattr(e.block, "type", type(e.block).__name__))
        for e in events
        if isinstance(e, BlockStart)
    ]
    assert starts == [
        (0, "TextBlock"),
        (1, "server_tool_use"),
        (2, "lynkr_tool_result"),
        (3, "TextBlock"),
    ]
    [delta] = [e for e in events if isinstance(e, MessageDelta)]
    assert (delta.stop_reason, delta.usage) == ("end_turn", Usage(30, 5))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "lookingfound it"


async def test_a_client_going_away_in_the_first_step_stops_its_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    caplog.set_level(logging.INFO, "lynkr.request")

    def long(context: ParseContext) -> list[tuple[float, list[Event]]]:
        return [
            (1, [MessageStart(context.message_id, context.model, Usage(10))]),
            (1, text_block(0, "word")),
            *[(1, [TextDelta(0, " word")]) for _ in range(50)],
            (3600, []),
        ]

    upstream = Watched(long, coalesced=True)
    app_state = state(tmp_path, {"ollama": upstream})
    app_state.toolboxes = (EchoBox(),)
    client = go(tools=True)
    client.hang_up_after = 3
    await call(app_state, client)
    assert b"x-lynkr-tools" in client.headers
    assert logged(caplog).client_disconnected is True
    assert trio.current_time() < 10  # the 50 s answer was not read to its end
    assert upstream.closed == 1


async def test_a_first_step_that_raises_ends_with_the_loops_error_frame(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    caplog.set_level(logging.INFO, "lynkr")

    def broken(context: ParseContext) -> Any:
        yield 1, [MessageStart(context.message_id, context.model, Usage(10))]
        yield 1, text_block(0, "so far")
        raise RuntimeError("a parser bug")

    upstream = Watched(broken, coalesced=True)
    app_state = state(tmp_path, {"ollama": upstream})
    app_state.toolboxes = (EchoBox(),)
    client = go(tools=True)
    await call(app_state, client)
    events = events_of(client)
    assert isinstance(events[-1], StreamError)
    assert events[-1].message.startswith("the tool loop failed inside the proxy")
    assert not any(isinstance(e, MessageDelta) for e in events)
    [failure] = [r for r in caplog.records if r.getMessage() == "the tool loop failed"]
    assert failure.exc_info is not None and "a parser bug" in str(failure.exc_info[1])
