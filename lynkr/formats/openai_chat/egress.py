"""Canonical events and responses → what an OpenAI Chat Completions client reads.

``ChatChunkRenderer`` is incremental: canonical events in, the exact ``data: {...}\\n\\n`` chunk
frames out, then ``data: [DONE]``. ``render_completion`` builds the whole ``chat.completion``
object from a folded Response.

Accepts any well-formed canonical stream (one MessageStart, blocks, one MessageDelta) from any
upstream; Ping, SignatureDelta, BlockStop, MessageStop and blocks a Chat client cannot show
(redacted thinking, server tools) render as nothing. Guarantees: every chunk has OpenAI's key
order (id, object, created, model, choices, then usage); tool calls are numbered 0, 1, 2, ...
in the order their blocks start; thinking goes out as ``reasoning_content``; the finish_reason
is ``tool_calls`` whenever a turn that ended normally made tool calls; after an error frame
nothing else is sent, not even ``[DONE]``. Never: does I/O or reads a clock (``created`` is
given).
"""

from __future__ import annotations

from typing import Any

import orjson

from lynkr.formats.fold import merge_usage
from lynkr.formats.openai_chat.ingress import ChatClientOptions
from lynkr.model.content import TextBlock, ThinkingBlock, ToolUseBlock
from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UpstreamTimeout,
)
from lynkr.model.events import (
    BlockStart,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from lynkr.model.response import Response

__all__ = ["ChatChunkRenderer", "finish_reason", "render_completion", "usage_json"]

STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Anthropic error type → OpenAI error type, as the error classes define them.
ERROR_TYPES = {
    cls.anthropic_type: cls.openai_type
    for cls in (LynkrError, BadRequest, PayloadTooLarge, Unauthorized, NotFound, RateLimited,
                Overloaded, UpstreamTimeout)
}
DONE = b"data: [DONE]\n\n"
_dumps = orjson.dumps


def finish_reason(stop_reason: str | None, has_tool_calls: bool) -> str:
    """OpenAI's finish_reason for a stop_reason; a normal end with tool calls is tool_calls."""
    finish = STOP_TO_FINISH.get(stop_reason or "end_turn", "stop")
    return "tool_calls" if has_tool_calls and finish == "stop" else finish


def usage_json(usage: Usage) -> dict[str, Any]:
    """Chat usage: prompt_tokens includes the cached and cache-written tokens."""
    prompt = (usage.input_tokens + usage.cache_read_input_tokens
              + usage.cache_creation_input_tokens)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
    }


class ChatChunkRenderer:
    """Canonical events → ``chat.completion.chunk`` SSE frames, one answer's worth."""

    def __init__(self, completion_id: str, model: str, created: int,
                 options: ChatClientOptions) -> None:
        # Every frame starts the same way: build those bytes once.
        self._head = (b'data: {"id":' + _dumps(completion_id)
                      + b',"object":"chat.completion.chunk","created":' + _dumps(created)
                      + b',"model":' + _dumps(model) + b',"choices":')
        self._include_usage = options.include_usage
        self._tools: dict[int, int] = {}  # canonical block index → tool call index
        self._usage = Usage()
        self._finished = False
        self._closed = False

    def render(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            if self._closed:
                break
            self._event(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        """The stream's last frame: ``[DONE]``, unless an error frame ended it already."""
        if self._closed:
            return b""
        self._closed = True  # nothing may follow [DONE]
        return DONE

    def _event(self, event: Event, out: list[bytes]) -> None:
        if isinstance(event, TextDelta):
            if event.text:
                out.append(self._delta({"content": event.text}))
        elif isinstance(event, InputJsonDelta):
            call = self._tools.get(event.index)
            if call is not None and event.partial_json:
                out.append(self._delta({"tool_calls": [
                    {"index": call, "function": {"arguments": event.partial_json}}]}))
        elif isinstance(event, ThinkingDelta):
            if event.thinking:
                out.append(self._delta({"reasoning_content": event.thinking}))
        elif isinstance(event, BlockStart):
            self._start(event, out)
        elif isinstance(event, MessageStart):
            self._usage = event.usage
            out.append(self._delta({"role": "assistant", "content": ""}))
        elif isinstance(event, MessageDelta):
            self._end(event, out)
        elif isinstance(event, StreamError):
            self._closed = True
            error = {"message": event.message,
                     "type": ERROR_TYPES.get(event.error_type, "server_error"),
                     "param": None, "code": None}
            out.append(b"data: " + _dumps({"error": error}) + b"\n\n")
        # Ping, SignatureDelta, BlockStop, MessageStop: nothing a Chat client reads

    def _start(self, event: BlockStart, out: list[bytes]) -> None:
        block = event.block
        if isinstance(block, ToolUseBlock):
            call = self._tools[event.index] = len(self._tools)
            arguments = _dumps(block.input).decode() if block.input else ""
            out.append(self._delta({"tool_calls": [{
                "index": call, "id": block.id, "type": "function",
                "function": {"name": block.name, "arguments": arguments}}]}))
        elif isinstance(block, TextBlock) and block.text:
            out.append(self._delta({"content": block.text}))
        elif isinstance(block, ThinkingBlock) and block.thinking:
            out.append(self._delta({"reasoning_content": block.thinking}))

    def _end(self, event: MessageDelta, out: list[bytes]) -> None:
        if self._finished:
            return
        self._finished = True
        self._usage = merge_usage(self._usage, event.usage)
        finish = finish_reason(event.stop_reason, bool(self._tools))
        out.append(self._head + _dumps([{"index": 0, "delta": {}, "finish_reason": finish}])
                   + b"}\n\n")
        if self._include_usage:
            out.append(self._head + b'[],"usage":' + _dumps(usage_json(self._usage))
                       + b"}\n\n")

    def _delta(self, delta: dict[str, Any]) -> bytes:
        choice = [{"index": 0, "delta": delta, "finish_reason": None}]
        return self._head + _dumps(choice) + b"}\n\n"


def render_completion(response: Response, completion_id: str, model: str,
                      created: int) -> dict[str, Any]:
    """The ``chat.completion`` object for a whole (folded) answer."""
    text = "".join(b.text for b in response.content if isinstance(b, TextBlock))
    thinking = [b.thinking for b in response.content if isinstance(b, ThinkingBlock)]
    calls = [
        {"id": b.id, "type": "function",
         "function": {"name": b.name, "arguments": _dumps(b.input).decode()}}
        for b in response.content if isinstance(b, ToolUseBlock)
    ]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if calls and not text else text,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    usage = usage_json(response.usage)
    usage["completion_tokens_details"] = {"reasoning_tokens": 0}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": finish_reason(response.stop_reason, bool(calls)),
        }],
        "usage": usage,
    }
