"""Canonical events ⇄ Anthropic SSE bytes.

``render_event`` is the egress hot path: one event in, the exact frame out. ``SseParser`` is an
incremental parser for Anthropic-dialect upstreams (and our own tests): bytes in, events out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from lynkr.formats.anthropic.blocks import parse_block, start_block
from lynkr.formats.frames import MALFORMED, count, malformed, text
from lynkr.formats.frames import obj as frame_obj
from lynkr.formats.lines import DEFAULT_MAX_LINE_BYTES
from lynkr.formats.sse import SseDecoder
from lynkr.model.errors import BadRequest
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)

_dumps = orjson.dumps


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "output_tokens": usage.output_tokens,
    }


def event_json(event: Event) -> tuple[bytes, dict[str, Any]]:
    """An event's SSE name and its JSON payload."""
    if isinstance(event, TextDelta):
        return b"content_block_delta", {"type": "content_block_delta", "index": event.index,
                                        "delta": {"type": "text_delta", "text": event.text}}
    if isinstance(event, InputJsonDelta):
        return b"content_block_delta", {
            "type": "content_block_delta", "index": event.index,
            "delta": {"type": "input_json_delta", "partial_json": event.partial_json}}
    if isinstance(event, ThinkingDelta):
        return b"content_block_delta", {
            "type": "content_block_delta", "index": event.index,
            "delta": {"type": "thinking_delta", "thinking": event.thinking}}
    if isinstance(event, SignatureDelta):
        return b"content_block_delta", {
            "type": "content_block_delta", "index": event.index,
            "delta": {"type": "signature_delta", "signature": event.signature}}
    if isinstance(event, BlockStart):
        return b"content_block_start", {"type": "content_block_start", "index": event.index,
                                        "content_block": start_block(event.block)}
    if isinstance(event, BlockStop):
        return b"content_block_stop", {"type": "content_block_stop", "index": event.index}
    if isinstance(event, MessageStart):
        return b"message_start", {"type": "message_start", "message": {
            "id": event.id, "type": "message", "role": "assistant", "model": event.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": usage_json(event.usage)}}
    if isinstance(event, MessageDelta):
        return b"message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": event.stop_reason, "stop_sequence": event.stop_sequence},
            "usage": usage_json(event.usage)}
    if isinstance(event, MessageStop):
        return b"message_stop", {"type": "message_stop"}
    if isinstance(event, Ping):
        return b"ping", {"type": "ping"}
    return b"error", {"type": "error",
                      "error": {"type": event.error_type, "message": event.message}}


def render_event(event: Event) -> bytes:
    name, payload = event_json(event)
    return b"event: " + name + b"\ndata: " + _dumps(payload) + b"\n\n"


def render_events(events: Iterable[Event]) -> bytes:
    return b"".join(map(render_event, events))


class SseParser:
    """Anthropic SSE bytes → canonical events, incrementally.

    ``done`` turns true at ``message_stop`` or an ``error`` frame; ``close()`` at the end of the
    body reports a stream cut before ``message_stop`` as a ``StreamError``. As an upstream
    parser (``message_id`` given) it names the message with our id and the reported model, and
    fills the final usage's input counts from ``message_start`` when ``message_delta`` has
    only ``output_tokens`` (a client would otherwise overwrite them with zeros).
    """

    def __init__(self, message_id: str | None = None, model: str = "",
                 input_estimate: int = 0, taken_ids: frozenset[str] = frozenset(),
                 max_line: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._decoder = SseDecoder(max_line)
        self._message_id = message_id
        self._model = model
        self._start_usage: dict[str, Any] = {}
        self.done = False

    def feed(self, data: bytes) -> list[Event]:
        out: list[Event] = []
        if self.done:
            return out
        try:
            for _name, payload in self._decoder.feed(data):
                if self.done:
                    break
                self._frame(payload, out)
        except MALFORMED as exc:
            self.done = True
            out.append(malformed(exc))
        return out

    def close(self) -> list[Event]:
        out: list[Event] = []
        if not self.done:
            try:
                for _name, payload in self._decoder.flush():
                    try:
                        self._frame(payload, out)
                    except orjson.JSONDecodeError:
                        break  # the body was cut inside this frame
            except MALFORMED as exc:
                self.done = True
                out.append(malformed(exc))
        if not self.done:
            self.done = True
            out.append(StreamError("api_error",
                                   "upstream stream ended before the answer was complete"))
        return out

    def _frame(self, payload: bytes, out: list[Event]) -> None:
        frame = orjson.loads(payload)
        if not isinstance(frame, dict):
            raise TypeError(f"a stream event must be an object, got {type(frame).__name__}")
        if self._message_id is not None:
            frame = self._upstream(frame)
        event = parse_event(frame)
        if event is None:
            return
        out.append(event)
        if isinstance(event, (MessageStop, StreamError)):
            self.done = True

    def _upstream(self, obj: dict[str, Any]) -> dict[str, Any]:
        kind = obj.get("type")
        if kind == "message_start":
            message = obj.get("message") or {}
            self._start_usage = message.get("usage") or {}
            return {**obj, "message": {**message, "id": self._message_id,
                                       "model": self._model or message.get("model", "")}}
        if kind == "message_delta":
            usage = obj.get("usage") or {}
            return {**obj, "usage": {**self._start_usage, **{k: v for k, v in usage.items()
                                                             if v is not None}}}
        return obj


def parse_usage(obj: dict[str, Any] | None) -> Usage:
    obj = frame_obj(obj, "usage")
    return Usage(
        input_tokens=count(obj.get("input_tokens")),
        output_tokens=count(obj.get("output_tokens")),
        cache_creation_input_tokens=count(obj.get("cache_creation_input_tokens")),
        cache_read_input_tokens=count(obj.get("cache_read_input_tokens")),
    )


def parse_event(obj: dict[str, Any]) -> Event | None:
    """One Anthropic stream event JSON → canonical event (None for unknown kinds). A known kind
    of the wrong shape raises ``TypeError``/``KeyError`` (``frames.MALFORMED``)."""
    kind = obj.get("type")
    if kind == "content_block_delta":
        delta, index = frame_obj(obj["delta"], "delta"), count(obj["index"])
        dkind = delta.get("type")
        if dkind == "text_delta":
            return TextDelta(index, text(delta["text"], "delta.text"))
        if dkind == "input_json_delta":
            return InputJsonDelta(index, text(delta["partial_json"], "delta.partial_json"))
        if dkind == "thinking_delta":
            return ThinkingDelta(index, text(delta["thinking"], "delta.thinking"))
        if dkind == "signature_delta":
            return SignatureDelta(index, text(delta["signature"], "delta.signature"))
        return None
    if kind == "content_block_start":
        try:
            block = parse_block(obj["content_block"], "content_block")
        except BadRequest:
            return None
        return BlockStart(count(obj["index"]), block)
    if kind == "content_block_stop":
        return BlockStop(count(obj["index"]))
    if kind == "message_start":
        msg = frame_obj(obj["message"], "message")
        return MessageStart(text(msg.get("id"), "message.id"),
                            text(msg.get("model"), "message.model"),
                            parse_usage(msg.get("usage")))
    if kind == "message_delta":
        delta = frame_obj(obj.get("delta"), "delta")
        stop_sequence = delta.get("stop_sequence")
        return MessageDelta(text(delta.get("stop_reason"), "stop_reason") or None,
                            parse_usage(obj.get("usage")),
                            None if stop_sequence is None
                            else text(stop_sequence, "stop_sequence"))
    if kind == "message_stop":
        return MessageStop()
    if kind == "ping":
        return Ping()
    if kind == "error":
        err = frame_obj(obj.get("error"), "error")
        return StreamError(text(err.get("type"), "error.type") or "api_error",
                           text(err.get("message"), "error.message"))
    return None
