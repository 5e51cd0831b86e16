"""Claude on Bedrock through InvokeModel: the Anthropic-native body and its answer.

The body is the Anthropic Messages request without ``model`` and ``stream`` (the operation
says both), with ``anthropic_version: bedrock-2023-05-31`` and the client's betas moved from
the ``anthropic-beta`` header into ``anthropic_beta`` (those Bedrock accepts). Bedrock rejects
keys it does not know ("extraneous key ... is not permitted"), so only an allow-list of
top-level fields is sent (structured output as ``output_config.format``, nothing else of
it). ``cache_control`` marks and thinking blocks with their signatures travel as they are:
this route preserves more than Converse.

Answers: each stream chunk's bytes are one Anthropic stream event JSON (the last carries
``amazon-bedrock-invocationMetrics``, dropped); a whole answer is an Anthropic Message.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from lynkr.formats.anthropic.blocks import render_block
from lynkr.formats.anthropic.message import parse_message
from lynkr.formats.anthropic.request import render_tool
from lynkr.formats.anthropic.sse import parse_event
from lynkr.formats.bedrock.converse import BEDROCK_BETAS, claude_fields
from lynkr.formats.bedrock.turns import bedrock_messages
from lynkr.formats.fold import unfold
from lynkr.formats.frames import MALFORMED, malformed
from lynkr.formats.frames import obj as frame_obj
from lynkr.formats.output_format import anthropic_format, output_format
from lynkr.formats.reasoning import is_foreign
from lynkr.model.content import Block, ThinkingBlock
from lynkr.model.events import Event, MessageStop, StreamError
from lynkr.model.request import Request

ANTHROPIC_VERSION = "bedrock-2023-05-31"
METRICS = "amazon-bedrock-invocationMetrics"


def build_invoke_body(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = {"anthropic_version": ANTHROPIC_VERSION}
    betas = [b for b in request.betas if b in BEDROCK_BETAS]
    if betas:
        body["anthropic_beta"] = betas
    body["max_tokens"] = request.max_tokens or 4096
    system = [render_block(b) for b in request.system if b.text.strip()]
    if system:
        body["system"] = system
    body["messages"] = [
        {"role": m.role, "content": [render_block(b) for b in m.content if _keep(b)]}
        for m in bedrock_messages(request.messages)
    ]
    tools = [render_tool(t) for t in request.tools]
    if tools:
        body["tools"] = tools
        if request.tool_choice:
            body["tool_choice"] = dict(request.tool_choice)
    # "enabled" goes as sent; "adaptive" (not on every Bedrock Claude) becomes a budget
    thinking = dict(request.thinking) if request.thinking and \
        request.thinking.get("type") == "enabled" else claude_fields(request).get("thinking")
    if thinking:
        body["thinking"] = thinking
    optional = {"temperature": request.temperature, "top_p": request.top_p,
                "top_k": request.top_k}
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.stop_sequences:
        body["stop_sequences"] = list(request.stop_sequences)
    fmt = output_format(request)
    native = anthropic_format(fmt) if fmt is not None else None
    if native is not None:
        body["output_config"] = {"format": native}
    return body


def _keep(block: Block) -> bool:
    """Thinking whose signature Bedrock did not issue would be a 400: dropped."""
    return not (isinstance(block, ThinkingBlock) and is_foreign(block.signature))


class InvokeStreamParser:
    """The chunks of ``invoke_model_with_response_stream`` → canonical events."""

    def __init__(self, message_id: str, model: str, input_estimate: int = 0,
                 taken_ids: frozenset[str] = frozenset()) -> None:
        self._message_id = message_id
        self._model = model
        self._start_usage: dict[str, Any] = {}
        self.done = False

    def feed(self, chunk: bytes) -> list[Event]:
        if self.done:
            return []
        try:
            return self._frame(chunk)
        except MALFORMED as exc:
            self.done = True
            return [malformed(exc)]

    def _frame(self, chunk: bytes) -> list[Event]:
        obj = frame_obj(orjson.loads(chunk), "the event")
        obj.pop(METRICS, None)
        kind = obj.get("type")
        if kind == "message_start":
            message = obj.get("message") or {}
            self._start_usage = message.get("usage") or {}
            obj = {**obj, "message": {**message, "id": self._message_id, "model": self._model}}
        elif kind == "message_delta":
            usage = {k: v for k, v in (obj.get("usage") or {}).items() if v is not None}
            obj = {**obj, "usage": {**self._start_usage, **usage}}
        event = parse_event(obj)
        if event is None:
            return []
        if isinstance(event, (MessageStop, StreamError)):
            self.done = True
        return [event]

    def close(self) -> list[Event]:
        if self.done:
            return []
        self.done = True
        return [StreamError("api_error", "bedrock: the event stream ended before the answer "
                                         "was complete")]


def invoke_events(body: bytes, message_id: str, model: str) -> list[Event]:
    """A whole InvokeModel answer (an Anthropic Message) as canonical events."""
    response = parse_message(orjson.loads(body))
    return unfold(attrs.evolve(response, id=message_id, model=model))
