"""Fold a canonical event stream into a whole Response (the non-streaming path), and back.

A non-streamed answer is the fold of the same events a stream would carry, so both paths share
every parser. Tool inputs arrive as JSON fragments and are parsed once, at the block's stop.
``unfold`` is the inverse (``fold(unfold(r)) == r``): a stored answer replayed as a stream.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import orjson

from lynkr.model.content import Block, OpaqueBlock, TextBlock, ThinkingBlock, ToolUseBlock
from lynkr.model.errors import (
    LynkrError,
    Overloaded,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from lynkr.model.events import (
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
    ThinkingDelta,
    Usage,
)
from lynkr.model.response import Response


class Folder:
    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self._blocks: dict[int, Block] = {}
        self._parts: dict[int, list[str]] = {}
        self._signatures: dict[int, list[str]] = {}

    def add(self, event: Event) -> None:
        if isinstance(event, (TextDelta, InputJsonDelta, ThinkingDelta)):
            self._parts[event.index].append(
                event.text if isinstance(event, TextDelta)
                else event.partial_json if isinstance(event, InputJsonDelta)
                else event.thinking)
        elif isinstance(event, BlockStart):
            self._blocks[event.index] = event.block
            self._parts[event.index] = []
            self._signatures[event.index] = []
        elif isinstance(event, SignatureDelta):
            self._signatures[event.index].append(event.signature)
        elif isinstance(event, BlockStop):
            self._close(event.index)
        elif isinstance(event, MessageStart):
            self.id, self.model, self.usage = event.id, event.model, event.usage
        elif isinstance(event, MessageDelta):
            self.stop_reason = event.stop_reason
            self.stop_sequence = event.stop_sequence
            self.usage = merge_usage(self.usage, event.usage)
        elif isinstance(event, StreamError):
            raise stream_error(event)

    def _close(self, index: int) -> None:
        block, text = self._blocks[index], "".join(self._parts[index])
        if isinstance(block, TextBlock):
            block = attrs.evolve(block, text=block.text + text)
        elif isinstance(block, ToolUseBlock):
            block = attrs.evolve(block, input=orjson.loads(text) if text.strip() else block.input)
        elif isinstance(block, ThinkingBlock):
            block = ThinkingBlock(block.thinking + text,
                                  block.signature + "".join(self._signatures[index]))
        elif isinstance(block, OpaqueBlock) and "input" in block.raw and text.strip():
            block = OpaqueBlock(block.type, {**block.raw, "input": orjson.loads(text)})
        self._blocks[index] = block

    def result(self) -> Response:
        content = tuple(self._blocks[i] for i in sorted(self._blocks))
        return Response(self.id, self.model, content, self.stop_reason, self.usage,
                        self.stop_sequence)


def stream_error(event: StreamError) -> LynkrError:
    """The HTTP error a stream error becomes when nothing was sent yet."""
    kind = {"timeout_error": UpstreamTimeout, "overloaded_error": Overloaded,
            "rate_limit_error": RateLimited}.get(event.error_type, UpstreamError)
    return kind(event.message)


def merge_usage(old: Usage, new: Usage) -> Usage:
    """message_delta usage is cumulative; a zero field means 'not reported', not 'zero'."""
    return Usage(
        input_tokens=new.input_tokens or old.input_tokens,
        output_tokens=new.output_tokens or old.output_tokens,
        cache_creation_input_tokens=new.cache_creation_input_tokens
        or old.cache_creation_input_tokens,
        cache_read_input_tokens=new.cache_read_input_tokens or old.cache_read_input_tokens,
    )


def fold(events: Iterable[Event]) -> Response:
    folder = Folder()
    for event in events:
        folder.add(event)
    return folder.result()


def unfold(response: Response) -> list[Event]:
    """The events a stream of ``response`` carries: start, each block, delta, stop."""
    events: list[Event] = [MessageStart(response.id, response.model, attrs.evolve(
        response.usage, output_tokens=0))]
    for index, block in enumerate(response.content):
        events.extend(unfold_block(index, block))
    events.append(MessageDelta(response.stop_reason, response.usage, response.stop_sequence))
    events.append(MessageStop())
    return events


def unfold_block(index: int, block: Block) -> list[Event]:
    """One block as the events that stream it: its start, its deltas, its stop."""
    events: list[Event]
    if isinstance(block, TextBlock):
        events = [BlockStart(index, attrs.evolve(block, text=""))]
        if block.text:
            events.append(TextDelta(index, block.text))
    elif isinstance(block, ToolUseBlock):
        events = [BlockStart(index, attrs.evolve(block, input={}))]
        if block.input:
            events.append(InputJsonDelta(index, orjson.dumps(block.input).decode()))
    elif isinstance(block, ThinkingBlock):
        events = [BlockStart(index, ThinkingBlock(""))]
        if block.thinking:
            events.append(ThinkingDelta(index, block.thinking))
        if block.signature:
            events.append(SignatureDelta(index, block.signature))
    elif isinstance(block, OpaqueBlock) and isinstance(block.raw.get("input"), dict):
        # server_tool_use, mcp_tool_use: the input streams as JSON, as a tool_use's does
        # (clients rebuild it from the deltas, and ignore the start's)
        events = [BlockStart(index, OpaqueBlock(block.type, {**block.raw, "input": {}}))]
        if block.raw["input"]:
            events.append(InputJsonDelta(index, orjson.dumps(block.raw["input"]).decode()))
    else:  # blocks without deltas (redacted thinking, server tool results, ...) start whole
        events = [BlockStart(index, block)]
    events.append(BlockStop(index))
    return events
