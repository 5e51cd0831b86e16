"""ChatStreamParser: recorded OpenAI Chat SSE bytes in, canonical events out."""

from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from harness.events import CUT, end, text_block, tool

from lynkr.formats.openai_chat.stream import ChatStreamParser, usage_from_openai
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)

START = MessageStart("msg_1", "m", Usage(input_tokens=5))


RECORDINGS: list[tuple[str, list[Event]]] = [
    ("text", [START, *text_block(0, "Hello", ", wörld"), BlockStop(0),
              *end("end_turn", Usage(input_tokens=12, output_tokens=3))]),
    ("text_tool_call", [START, *text_block(0, "Listing files."), BlockStop(0),
                        *tool(1, "call_abc", "Bash", '{"command":"ls -la"}'),
                        *end("tool_use", Usage(20, 20, cache_read_input_tokens=100))]),
    ("parallel_tool_calls", [START, *tool(0, "call_a", "Read", '{"file_path":"/a.txt"}'),
                             *tool(1, "call_b", "Glob", '{"pattern":"*.py"}'),
                             *end("tool_use", Usage(input_tokens=40, output_tokens=9))]),
    ("whole_call_no_id", [START, *tool(0, "toolu_1_0", "get_weather", '{"city":"Tokyo"}'),
                          *end("tool_use", Usage(input_tokens=5))]),
    ("reasoning_length", [START, BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "Let me "),
                          ThinkingDelta(0, "think."), BlockStop(0),
                          *text_block(1, "Answer: 4"), BlockStop(1),
                          *end("max_tokens", Usage(50, 50, 150, 800))]),
    ("sloppy_arguments", [START,
                          *tool(0, "call_1_x", "Write", '{"path":"a.md","lines":["one","tw"]}'),
                          *tool(1, "call_2", "Noop", "{}"),
                          *end("tool_use", Usage(input_tokens=5))]),
    ("no_done", [START, *text_block(0, "Done"), BlockStop(0),
                 *end("end_turn", Usage(input_tokens=5))]),
    ("cut", [START, *text_block(0, "Half an ans"), CUT]),
    ("error_mid_stream", [START, *text_block(0, "Start"),
                          StreamError("api_error", "Provider returned error")]),
]


def parse(data: bytes, sizes: Sequence[int] = (1 << 30,)) -> list[Event]:
    """Feed ``data`` in pieces of the given sizes (cycled), then close."""
    parser = ChatStreamParser("msg_1", "m", input_estimate=5)
    out: list[Event] = []
    start, turn = 0, 0
    while start < len(data):
        size = sizes[turn % len(sizes)]
        out.extend(parser.feed(data[start : start + size]))
        start, turn = start + size, turn + 1
    out.extend(parser.close())
    assert parser.close() == []
    return out


def check_shape(events: list[Event]) -> None:
    """One block open at a time; indexes start at 0 and rise by one; deltas hit the open one."""
    assert isinstance(events[0], MessageStart)
    open_index, next_index = None, 0
    for event in events[1:]:
        if isinstance(event, BlockStart):
            assert open_index is None and event.index == next_index
            open_index, next_index = event.index, next_index + 1
        elif isinstance(event, (TextDelta, ThinkingDelta, InputJsonDelta, SignatureDelta)):
            assert event.index == open_index
        elif isinstance(event, BlockStop):
            assert event.index == open_index
            open_index = None
        elif isinstance(event, MessageDelta):
            assert open_index is None
            has_calls = any(isinstance(e, BlockStart) and isinstance(e.block, ToolUseBlock)
                            for e in events)
            assert (event.stop_reason == "tool_use") == has_calls
    assert isinstance(events[-1], (MessageStop, StreamError))


@pytest.mark.parametrize(("name", "expected"), RECORDINGS, ids=[n for n, _ in RECORDINGS])
def test_recording(golden: Callable[[str], bytes], name: str, expected: list[Event]) -> None:
    data = golden(f"openai/{name}.sse")
    assert parse(data) == expected
    check_shape(expected)
    for sizes in [(1,), (7,), (2, 5, 11), (64,)]:
        assert parse(data, sizes) == expected, sizes
    assert parse(data.replace(b"\n", b"\r\n"), (3,)) == expected


@pytest.mark.parametrize("name", ["text", "text_tool_call"])
def test_every_split_point(golden: Callable[[str], bytes], name: str) -> None:
    data = golden(f"openai/{name}.sse")
    expected = parse(data)
    for cut in range(len(data) + 1):
        parser = ChatStreamParser("msg_1", "m", input_estimate=5)
        assert parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.close() == expected


def test_unterminated_last_frame_is_flushed_on_close(golden: Callable[[str], bytes]) -> None:
    data = golden("openai/no_done.sse").rstrip(b"\n")
    assert parse(data) == RECORDINGS[6][1]


def test_stream_cut_mid_frame(golden: Callable[[str], bytes]) -> None:
    data = golden("openai/text.sse")
    cut = data.index("wörld".encode()) - 20
    assert parse(data[:cut]) == [START, *text_block(0, "Hello"), CUT]


def test_empty_body() -> None:
    assert parse(b"") == [START, CUT]


def frames(*chunks: dict[str, Any], done: bool = True) -> bytes:
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks)
    return body + (b"data: [DONE]\n\n" if done else b"")


def choice(delta: dict[str, Any], finish: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # finish chunk that still carries content, usage on that same chunk
        (frames({**choice({"content": "a"}, "stop"),
                 "usage": {"prompt_tokens": 3, "completion_tokens": 1}}),
         [START, *text_block(0, "a"), BlockStop(0), *end("end_turn", Usage(3, 1))]),
        # Azure prompt_filter_results chunk, `reasoning` spelling, other choice indexes ignored
        (frames({"choices": [], "prompt_filter_results": []}, choice({"reasoning": "r"}),
                choice({"content": "other"}, index=1), choice({"content": "t"}, "stop")),
         [START, BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "r"), BlockStop(0),
          *text_block(1, "t"), BlockStop(1), *end("end_turn", Usage(input_tokens=5))]),
        # finish_reason error (OpenRouter)
        (frames(choice({"content": "x"}), {**choice({}, "error"), "error": {"message": "boom"}}),
         [START, *text_block(0, "x"), StreamError("api_error", "boom")]),
        # content_filter → refusal; [DONE] without finish → end_turn
        (frames(choice({}, "content_filter")), [START, *end("refusal", Usage(input_tokens=5))]),
        (frames(choice({"content": "x"})),
         [START, *text_block(0, "x"), BlockStop(0), *end("end_turn", Usage(input_tokens=5))]),
        # a call without index (position used), its name repeated on later fragments
        (frames(choice({"tool_calls": [{"id": "c", "function": {"name": "F", "arguments": "{"}}]}),
                choice({"tool_calls": [{"function": {"name": "F", "arguments": "}"}}]}, "stop")),
         [START, *tool(0, "c", "F", "{}"), *end("tool_use", Usage(input_tokens=5))]),
        # arguments sent as an object (some local servers)
        (frames(choice({"tool_calls": [{"index": 0, "function": {"name": "F",
                                                                 "arguments": {"k": 1}}}]},
                       "tool_calls")),
         [START, *tool(0, "toolu_1_0", "F", '{"k":1}'), *end("tool_use", Usage(input_tokens=5))]),
        # events after [DONE] are ignored
        (frames(choice({"content": "x"}, "stop")) + frames(choice({"content": "late"})),
         [START, *text_block(0, "x"), BlockStop(0), *end("end_turn", Usage(input_tokens=5))]),
        # `data: {"error": ...}` with a string error
        (frames({"error": "rate limited"}, done=False),
         [START, StreamError("api_error", "rate limited")]),
    ],
)
def test_server_quirks(data: bytes, expected: list[Event]) -> None:
    assert parse(data) == expected
    assert parse(data, (5,)) == expected
    check_shape(expected)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (None, Usage()),
        ({}, Usage()),
        ({"prompt_tokens": 120, "completion_tokens": 20, "prompt_tokens_details":
          {"cached_tokens": 100}}, Usage(20, 20, 0, 100)),
        ({"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details":
          {"cached_tokens": 8, "cache_write_tokens": 5}}, Usage(0, 2, 5, 8)),
        ({"prompt_tokens": 7, "completion_tokens": None, "prompt_tokens_details": None},
         Usage(input_tokens=7)),
        ({"prompt_tokens": 1000, "completion_tokens": 3, "prompt_cache_hit_tokens": 896,
          "prompt_cache_miss_tokens": 104}, Usage(104, 3, 0, 896)),  # DeepSeek
    ],
)
def test_usage_from_openai(usage: dict[str, Any] | None, expected: Usage) -> None:
    assert usage_from_openai(usage) == expected
