"""Upstream frames of the wrong shape: bytes in, an error event out, never an exception."""

from __future__ import annotations

import pytest

from lynkr.formats.anthropic.sse import SseParser
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.model import MessageStart, StreamError, TextDelta, Usage

START = MessageStart("m1", "x", Usage())
ANTHROPIC_START = (b'event: message_start\ndata: {"type":"message_start","message":'
                   b'{"id":"u","model":"x","usage":{"input_tokens":1}}}\n\n')
CHAT_OK = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'


def parse(parser: SseParser | ChatStreamParser | OllamaStreamParser, *reads: bytes
          ) -> list[object]:
    out: list[object] = []
    for read in reads:
        out += parser.feed(read)
    return out + parser.close()


def single_error(events: list[object]) -> StreamError:
    errors = [e for e in events if isinstance(e, StreamError)]
    assert len(errors) == 1, events
    assert errors[0] is events[-1]
    return errors[0]


@pytest.mark.parametrize("frame", [
    b"[1, 2]",  # an array where an event object belongs
    b'"text"',
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":{"a":1}}}',
    b'{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"a"}}',
    b'{"type":"content_block_delta","index":0,"delta":"text"}',
    b'{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":"9"}}',
    b'{"type":"error","error":"overloaded"}',
    b"{not json",
])
def test_anthropic_frames_of_the_wrong_shape(frame: bytes) -> None:
    events = parse(SseParser("m1", "x"), ANTHROPIC_START, b"data: " + frame + b"\n\n")
    error = single_error(events)
    assert error.error_type == "api_error" and "malformed" in error.message
    assert not any(isinstance(e, TextDelta) for e in events)


@pytest.mark.parametrize("frame", [
    b"[]",
    b'{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":{"prompt_tokens":"x"}}',
    b'{"choices":[{"index":0,"delta":[1]}]}',
    b'{"choices":["text"]}',
    b'{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":5}}]}}]}',
    b'{"choices":[{"index":0,"delta":{"tool_calls":[{"function":"f"}]}}]}',
])
def test_chat_frames_of_the_wrong_shape(frame: bytes) -> None:
    events = parse(ChatStreamParser("m1", "x"), CHAT_OK, b"data: " + frame + b"\n\n")
    assert events[:3] == [START, *events[1:3]]
    assert "malformed" in single_error(events).message


@pytest.mark.parametrize("line", [
    b'{"message":{"role":"assistant","content":{"text":"hi"}},"done":false}',
    b'{"message":{"content":"hi","thinking":["a"]},"done":false}',
    b'{"message":"hi","done":false}',
    b'{"message":{"content":"hi"},"done":true,"eval_count":"3"}',
    b'{"message":{"tool_calls":[{"function":[]}]},"done":false}',
    b"[1]",
])
def test_ollama_lines_of_the_wrong_shape(line: bytes) -> None:
    """An Ollama content object must never reach a client as ``text_delta.text: {...}``."""
    events = parse(OllamaStreamParser("m1", "x"), line + b"\n")
    assert not any(isinstance(e, TextDelta) and not isinstance(e.text, str) for e in events)
    assert "malformed" in single_error(events).message


@pytest.mark.parametrize("make", [
    lambda: SseParser("m1", "x", max_line=1000),
    lambda: ChatStreamParser("m1", "x", max_line=1000),
    lambda: OllamaStreamParser("m1", "x", max_line=1000),
])
def test_an_endless_line_ends_the_stream_with_the_limit_named(make) -> None:  # type: ignore[no-untyped-def]
    parser = make()
    events: list[object] = []
    for _ in range(10):
        events += parser.feed(b"data: " + b"z" * 300)
    events += parser.close()
    assert "UPSTREAM_MAX_LINE_BYTES" in single_error(events).message
