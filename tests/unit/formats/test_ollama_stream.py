"""OllamaStreamParser: recorded /api/chat NDJSON bytes in, canonical events out."""

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from harness.events import CUT, end, text_block, tool

from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    MessageStart,
    StreamError,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)

START = MessageStart("msg_1", "qwen3:8b", Usage(input_tokens=5))


RECORDINGS: list[tuple[str, list[Event]]] = [
    ("text", [START, *text_block(0, "Hel", "lo!"), BlockStop(0),
              *end("end_turn", Usage(input_tokens=26, output_tokens=282))]),
    ("thinking_length", [START, BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "Let me"),
                         ThinkingDelta(0, " check."), BlockStop(0),
                         *text_block(1, "It is sunny."), BlockStop(1),
                         *end("max_tokens", Usage(input_tokens=5, output_tokens=9))]),
    ("tool_calls", [START, *text_block(0, "Checking."), BlockStop(0),
                    *tool(1, "toolu_1_0", "get_weather", '{"city":"Tokyo"}'),
                    *tool(2, "toolu_1_1", "get_time", '{"zone":"Asia/Tokyo","24h":true}'),
                    *end("tool_use", Usage(input_tokens=31, output_tokens=40))]),
    ("error", [START, *text_block(0, "Hi"),
               StreamError("api_error", "model runner has unexpectedly stopped")]),
    ("cut", [START, *text_block(0, "Half"), CUT]),
]


def parse(data: bytes, size: int = 1 << 30, message_id: str = "msg_1") -> list[Event]:
    parser = OllamaStreamParser(message_id, "qwen3:8b", input_estimate=5)
    out: list[Event] = []
    for start in range(0, len(data), size):
        out.extend(parser.feed(data[start : start + size]))
    out.extend(parser.close())
    assert parser.close() == []
    return out


@pytest.mark.parametrize(("name", "expected"), RECORDINGS, ids=[n for n, _ in RECORDINGS])
def test_recording(golden: Callable[[str], bytes], name: str, expected: list[Event]) -> None:
    data = golden(f"ollama/{name}.ndjson")
    assert parse(data) == expected
    for size in (1, 7, 13, 100):
        assert parse(data, size) == expected, size


@pytest.mark.parametrize("name", ["text", "tool_calls"])
def test_every_split_point(golden: Callable[[str], bytes], name: str) -> None:
    data = golden(f"ollama/{name}.ndjson")
    expected = parse(data)
    for cut in range(len(data) + 1):
        parser = OllamaStreamParser("msg_1", "qwen3:8b", input_estimate=5)
        assert parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.close() == expected


def test_ids_are_synthesised_from_the_message_id(golden: Callable[[str], bytes]) -> None:
    events = parse(golden("ollama/tool_calls.ndjson"), message_id="msg_XyZ")
    ids = [e.block.id for e in events if isinstance(e, BlockStart)
           and isinstance(e.block, ToolUseBlock)]
    assert ids == ["toolu_XyZ_0", "toolu_XyZ_1"]


def lines(*objs: dict[str, Any], newline_at_end: bool = True) -> bytes:
    body = b"\n".join(orjson.dumps(o) for o in objs)
    return body + b"\n" if newline_at_end else body


def msg(content: str = "", **fields: Any) -> dict[str, Any]:
    return {"message": {"role": "assistant", "content": content, **fields}, "done": False}


DONE = {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # last line without a newline is still read at close
        (lines(msg("a"), DONE, newline_at_end=False),
         [START, *text_block(0, "a"), BlockStop(0), *end("end_turn", Usage(input_tokens=5))]),
        # a complete line, then the body ends without done
        (lines(msg("a"), msg("b"), newline_at_end=False), [START, *text_block(0, "a", "b"), CUT]),
        # upstream id kept (sanitised); string arguments parsed; blank lines skipped
        (lines(msg(tool_calls=[{"id": "call.9", "function": {"name": "F",
                                                             "arguments": '{"x": [1'}}]))
         + b"\n  \n" + lines(DONE),
         [START, *tool(0, "call_9", "F", '{"x":[1]}'), *end("tool_use", Usage(input_tokens=5))]),
        # two calls in one line; content and tool calls in the same chunk
        (lines(msg("t", tool_calls=[{"function": {"name": "A", "arguments": {}}},
                                    {"function": {"name": "B", "arguments": {"k": None}}}]),
               {**DONE, "done_reason": "length"}),
         [START, *text_block(0, "t"), BlockStop(0), *tool(1, "toolu_1_0", "A", "{}"),
          *tool(2, "toolu_1_1", "B", '{"k":null}'), *end("tool_use", Usage(input_tokens=5))]),
        # done_reason load (empty keep-alive request) and missing done_reason
        (lines({**DONE, "done_reason": "load"}), [START, *end("end_turn", Usage(5))]),
        (lines({"done": True, "eval_count": 3}), [START, *end("end_turn", Usage(5, 3))]),
        # an error object instead of a message; lines after done are ignored
        (lines({"error": {"code": 500}}), [START, StreamError("api_error", "{'code': 500}")]),
        (lines(DONE, msg("late")), [START, *end("end_turn", Usage(5))]),
        (b"", [START, CUT]),
    ],
)
def test_server_quirks(data: bytes, expected: list[Event]) -> None:
    assert parse(data) == expected
    assert parse(data, 3) == expected
