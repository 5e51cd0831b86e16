"""Builders for expected canonical event sequences in the stream-parser tests."""

from __future__ import annotations

from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStop,
    StreamError,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)

CUT = StreamError("api_error", "upstream stream ended before the answer was complete")


def text_block(index: int, *pieces: str) -> list[Event]:
    return [BlockStart(index, TextBlock("")), *(TextDelta(index, p) for p in pieces)]


def tool(index: int, call_id: str, name: str, args: str) -> list[Event]:
    return [BlockStart(index, ToolUseBlock(call_id, name, {})), InputJsonDelta(index, args),
            BlockStop(index)]


def end(stop: str, usage: Usage) -> list[Event]:
    return [MessageDelta(stop, usage), MessageStop()]
