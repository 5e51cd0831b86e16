"""Canonical stream events; they mirror Anthropic's, so rendering Anthropic SSE is direct."""

from __future__ import annotations

import attrs

from lynkr.model.content import Block


@attrs.frozen
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@attrs.frozen
class MessageStart:
    id: str
    model: str
    usage: Usage = Usage()


@attrs.frozen
class BlockStart:
    """``block`` is the empty starting block: TextBlock(""), ToolUseBlock(input={}), ..."""

    index: int
    block: Block


@attrs.frozen
class TextDelta:
    index: int
    text: str


@attrs.frozen
class InputJsonDelta:
    index: int
    partial_json: str


@attrs.frozen
class ThinkingDelta:
    index: int
    thinking: str


@attrs.frozen
class SignatureDelta:
    index: int
    signature: str


@attrs.frozen
class BlockStop:
    index: int


@attrs.frozen
class MessageDelta:
    stop_reason: str | None
    usage: Usage
    stop_sequence: str | None = None


@attrs.frozen
class MessageStop:
    pass


@attrs.frozen
class Ping:
    pass


@attrs.frozen
class StreamError:
    """An error after the stream started; ``error_type`` is Anthropic's (api_error, ...)."""

    error_type: str
    message: str


Event = (
    MessageStart
    | BlockStart
    | TextDelta
    | InputJsonDelta
    | ThinkingDelta
    | SignatureDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | StreamError
)
