"""Tool-call assembly shared by translated upstreams: ids, argument repair, block order."""

from typing import Any

import pytest

from lynkr.formats.toolcalls import AnswerBuilder, parse_arguments, sanitize_id
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStop,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, {}),
        ("", {}),
        ("   ", {}),
        ({"a": 1}, {"a": 1}),
        ('{"a": 1}', {"a": 1}),
        ("[1, 2]", {}),  # valid JSON, but not an object
        ('"text"', {}),
        ("not json", {}),
        ('{"a": "unterminated', {"a": "unterminated"}),
        ('{"a": [1, {"b": "c', {"a": [1, {"b": "c"}]}),
        ('{"q": "say \\"hi\\"", "n": {', {"q": 'say "hi"', "n": {}}),
        ('{"s": "brace } in string", "t": [', {"s": "brace } in string", "t": []}),
        ('{"a": "ends in escape \\', None),  # cannot be closed into valid JSON → {}
        ('{"a": 1,', {}),  # trailing comma cannot be repaired
        ('{"a": 1}}', {}),
    ],
)
def test_parse_arguments(raw: Any, parsed: dict[str, Any] | None) -> None:
    assert parse_arguments(raw) == ({} if parsed is None else parsed)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("call_abc-123", "call_abc-123"),
        ("call:1.x", "call_1_x"),
        ("functions.Read:0", "functions_Read_0"),
        ("ümlaut id", "_mlaut_id"),
    ],
)
def test_sanitize_id(raw: str, clean: str) -> None:
    assert sanitize_id(raw) == clean


def test_one_open_block_and_calls_at_the_end() -> None:
    builder = AnswerBuilder("msg_9")
    out: list[Event] = []
    builder.thinking("a", out)
    builder.thinking("b", out)
    builder.text("", out)  # empty pieces open nothing
    builder.text("c", out)
    first = builder.call(0, "call.1", "Read")
    first.arguments.extend(['{"p":', '"/x"}'])
    second = builder.call(1, None, None)
    assert builder.call(1, "ignored", "Glob") is second  # name filled in late, id kept
    second.whole = {"g": "*"}
    builder.thinking("d", out)
    builder.finish("end_turn", Usage(1, 2), out)
    assert out == [
        BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "a"), ThinkingDelta(0, "b"),
        BlockStop(0),
        BlockStart(1, TextBlock("")), TextDelta(1, "c"), BlockStop(1),
        BlockStart(2, ThinkingBlock("")), ThinkingDelta(2, "d"), BlockStop(2),
        BlockStart(3, ToolUseBlock("call_1", "Read", {})), InputJsonDelta(3, '{"p":"/x"}'),
        BlockStop(3),
        BlockStart(4, ToolUseBlock("toolu_9_1", "Glob", {})), InputJsonDelta(4, '{"g":"*"}'),
        BlockStop(4),
        MessageDelta("tool_use", Usage(1, 2)),  # forced: the turn has calls
        MessageStop(),
    ]


@pytest.mark.parametrize(("stop", "expected"), [("max_tokens", "max_tokens"), (None, "end_turn")])
def test_finish_without_calls_keeps_stop_reason(stop: str | None, expected: str) -> None:
    out: list[Event] = []
    AnswerBuilder("msg_1").finish(stop, Usage(), out)
    assert out == [MessageDelta(expected, Usage()), MessageStop()]
