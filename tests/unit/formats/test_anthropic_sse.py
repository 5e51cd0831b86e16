"""Canonical events ⇄ Anthropic SSE bytes, checked byte for byte against golden streams."""

from collections.abc import Callable

import orjson
import pytest

from lynkr.formats.anthropic.sse import SseParser, parse_event, render_event, render_events
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    OpaqueBlock,
    Ping,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)

TEXT = [
    MessageStart("msg_1", "claude-x", Usage(input_tokens=10, output_tokens=1)),
    BlockStart(0, TextBlock("")),
    Ping(),
    TextDelta(0, "Hi"),
    TextDelta(0, " there!"),
    BlockStop(0),
    MessageDelta("end_turn", Usage(input_tokens=10, output_tokens=4)),
    MessageStop(),
]
TEXT_TOOL_USE = [
    MessageStart("msg_2", "claude-x", Usage(input_tokens=50, output_tokens=1)),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Listing files."),
    BlockStop(0),
    BlockStart(1, ToolUseBlock("toolu_01A", "Bash", {})),
    InputJsonDelta(1, ""),
    InputJsonDelta(1, '{"command": "ls'),
    InputJsonDelta(1, ' -la"}'),
    BlockStop(1),
    MessageDelta("tool_use", Usage(input_tokens=50, output_tokens=32)),
    MessageStop(),
]
THINKING_TEXT = [
    MessageStart("msg_3", "claude-x", Usage(7, 1, 3, 100)),
    BlockStart(0, ThinkingBlock("")),
    ThinkingDelta(0, "Two plus two."),
    SignatureDelta(0, "c2lnbmF0dXJl"),
    BlockStop(0),
    BlockStart(1, TextBlock("")),
    TextDelta(1, "4"),
    BlockStop(1),
    MessageDelta("end_turn", Usage(7, 12, 3, 100)),
    MessageStop(),
]
ERROR = [
    MessageStart("msg_4", "claude-x", Usage(input_tokens=5)),
    BlockStart(0, TextBlock("")),
    TextDelta(0, "Partial é\n"),
    StreamError("overloaded_error", "Overloaded"),
]
GOLDENS = [
    ("anthropic/text.sse", TEXT),
    ("anthropic/text_tool_use.sse", TEXT_TOOL_USE),
    ("anthropic/thinking_text.sse", THINKING_TEXT),
    ("anthropic/error.sse", ERROR),
]
IDS = [name for name, _ in GOLDENS]


@pytest.mark.parametrize(("name", "events"), GOLDENS, ids=IDS)
def test_render_matches_golden_bytes(
    golden: Callable[[str], bytes], name: str, events: list[Event]
) -> None:
    assert render_events(events) == golden(name)


@pytest.mark.parametrize(("name", "events"), GOLDENS, ids=IDS)
def test_golden_is_a_well_formed_anthropic_stream(
    golden: Callable[[str], bytes], name: str, events: list[Event]
) -> None:
    frames = golden(name).split(b"\n\n")
    assert frames.pop() == b""
    assert len(frames) == len(events)
    for frame in frames:
        event_line, data_line = frame.split(b"\n")
        payload = orjson.loads(data_line.removeprefix(b"data: "))
        assert event_line == b"event: " + payload["type"].encode()


@pytest.mark.parametrize(("name", "events"), GOLDENS, ids=IDS)
@pytest.mark.parametrize("size", [1, 3, 7, 64, 1 << 20])
def test_parse_golden_in_chunks(
    golden: Callable[[str], bytes], name: str, events: list[Event], size: int
) -> None:
    data = golden(name)
    parser = SseParser()
    out: list[Event] = []
    for start in range(0, len(data), size):
        out.extend(parser.feed(data[start : start + size]))
    assert out == events


def test_parse_upstream_crlf_with_comments_and_unknown_events() -> None:
    data = (
        b": upstream comment\r\n\r\n"
        + render_event(TEXT[0]).replace(b"\n", b"\r\n")
        + b'event: future_thing\r\ndata: {"type":"future_thing","x":1}\r\n\r\n'
        + b'event: content_block_delta\r\ndata: {"type":"content_block_delta","index":0,'
        + b'"delta":{"type":"citations_delta","citation":{}}}\r\n\r\n'
        + render_event(MessageStop())
    )
    assert SseParser().feed(data) == [TEXT[0], MessageStop()]


@pytest.mark.parametrize(
    ("event", "frame"),
    [
        (Ping(), b'event: ping\ndata: {"type":"ping"}\n\n'),
        (BlockStop(3), b'event: content_block_stop\ndata: {"type":"content_block_stop","index":3}'
                       b"\n\n"),
        (BlockStart(2, RedactedThinkingBlock("cmVk")),
         b'event: content_block_start\ndata: {"type":"content_block_start","index":2,'
         b'"content_block":{"type":"redacted_thinking","data":"cmVk"}}\n\n'),
        (BlockStart(1, OpaqueBlock("server_tool_use", {"type": "server_tool_use", "id": "srv_1",
                                                       "name": "web_search", "input": {}})),
         b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
         b'"content_block":{"type":"server_tool_use","id":"srv_1","name":"web_search",'
         b'"input":{}}}\n\n'),
        (MessageDelta("stop_sequence", Usage(output_tokens=2), "END"),
         b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
         b'"stop_sequence","stop_sequence":"END"},"usage":{"input_tokens":0,'
         b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}\n\n'),
    ],
)
def test_render_single_frames(event: Event, frame: bytes) -> None:
    assert render_event(event) == frame
    assert SseParser().feed(frame) == [event]


def test_start_block_is_always_empty() -> None:
    """A start event announces the block; its content only comes in deltas."""
    frame = render_event(BlockStart(0, ToolUseBlock("t", "n", {"already": "set"})))
    assert b'"input":{}' in frame
    frame = render_event(BlockStart(0, TextBlock("leaked")))
    assert b"leaked" not in frame


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "mystery"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "compaction_delta"}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
    ],
)
def test_unknown_or_malformed_kinds_are_skipped(obj: dict[str, object]) -> None:
    assert parse_event(obj) is None


def test_error_without_details_defaults_to_api_error() -> None:
    assert parse_event({"type": "error"}) == StreamError("api_error", "")


def test_message_start_with_partial_usage() -> None:
    usage = {"input_tokens": 9, "output_tokens": None}
    obj = {"type": "message_start", "message": {"id": "m", "model": "x", "usage": usage}}
    assert parse_event(obj) == MessageStart("m", "x", Usage(input_tokens=9))
