"""Canonical events and responses → OpenAI Responses SSE and response objects.

Accepts the canonical events of one answer (in Anthropic order, fed in any batching) or its
folded Response. Guarantees: every SSE frame is ``event: <type>`` plus a JSON ``data`` line
carrying the same ``type`` and a ``sequence_number`` that starts at 0 and rises by one; each
text, tool-use and thinking block is one output item whose deltas sum to its ``.done`` text;
a tool call is answered as the client declared the tool: ``function_call`` (with its
``namespace`` when it came from one), ``custom_tool_call`` with the raw ``input`` (its input
arrives whole at the end, as one ``custom_tool_call_input.delta``), or ``tool_search_call``;
the stream ends with exactly one ``response.completed`` (also for a truncated answer, whose
status is then ``incomplete``, so SDK helpers waiting for ``completed`` still finish),
``response.failed``, or ``error`` (a failure before anything started). There is no ``[DONE]``.
Never: emits reasoning ``encrypted_content`` unless the client asked for it in ``include``,
renders block kinds Responses has no item for (server tool blocks, redacted thinking), reads a
clock or makes an id up: ids and times come from the caller.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from lynkr.formats.fold import merge_usage
from lynkr.formats.openai_responses.ingress import ResponsesClientOptions
from lynkr.formats.openai_responses.objects import (
    custom_tool_call_item,
    error_object,
    final_status,
    function_call_item,
    item_id,
    message_item,
    output_text_part,
    reasoning_item,
    response_object,
    summary_part,
    tool_search_call_item,
    usage_object,
)
from lynkr.formats.openai_responses.tools import ClientTool, custom_input
from lynkr.formats.toolcalls import parse_arguments
from lynkr.model.content import Block, TextBlock, ThinkingBlock, ToolUseBlock
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
from lynkr.model.request import Message, Request
from lynkr.model.response import Response

__all__ = ["ResponsesEventRenderer", "output_message", "render_response", "stored_conversation"]

_KINDS: dict[type, str] = {
    TextBlock: "message", ToolUseBlock: "function_call", ThinkingBlock: "reasoning"}
_CALL_KINDS = {"function": "function_call", "custom": "custom_tool_call",
               "tool_search": "tool_search_call"}


def _call_kind(client: ClientTool | None) -> str:
    return _CALL_KINDS[client.kind] if client else "function_call"


def call_item(kind: str, id_: str, call_id: str, name: str, arguments: str, status: str,
              client: ClientTool | None) -> dict[str, Any]:
    """The output item of one tool call, in the shape of the tool the client declared."""
    namespace = client.namespace if client else None
    own_name = client.name if client else name
    if kind == "custom_tool_call":
        return custom_tool_call_item(id_, call_id, own_name,
                                     custom_input(parse_arguments(arguments)), status, namespace)
    if kind == "tool_search_call":
        return tool_search_call_item(id_, call_id, parse_arguments(arguments), status)
    return function_call_item(id_, call_id, own_name, arguments, status, namespace)


@attrs.define
class _Item:
    """One output item while it streams."""

    kind: str  # "message" | "reasoning" | "function_call" | "custom_tool_call" | ...
    id: str
    output_index: int
    call_id: str = ""
    name: str = ""
    client: ClientTool | None = None
    parts: list[str] = attrs.Factory(list)
    signature: list[str] = attrs.Factory(list)
    summary_open: bool = False
    closed: bool = False

    def where(self) -> dict[str, Any]:
        return {"item_id": self.id, "output_index": self.output_index}


class ResponsesEventRenderer:
    """Canonical events → Responses SSE bytes, one answer per instance."""

    def __init__(self, response_id: str, model: str, created_at: int,
                 options: ResponsesClientOptions) -> None:
        self.response_id = response_id
        self.model = model
        self.created_at = created_at
        self.options = options
        self._seq = 0
        self._items: list[_Item] = []
        self._by_block: dict[int, _Item] = {}
        self._usage = Usage()
        self._stop_reason: str | None = None
        self._started = False
        self._ended = False

    def render(self, events: list[Event]) -> bytes:
        out: list[bytes] = []
        for event in events:
            if not self._ended:
                self._event(event, out)
        return b"".join(out)

    def finish(self) -> bytes:
        return b""  # Responses streams end with their last event; there is no [DONE]

    def _emit(self, out: list[bytes], kind: str, payload: dict[str, Any]) -> None:
        data = {"type": kind, "sequence_number": self._seq, **payload}
        self._seq += 1
        out.append(b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n")

    def _event(self, event: Event, out: list[bytes]) -> None:
        if isinstance(event, TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta):
            item = self._by_block.get(event.index)
            if item is not None and not item.closed:
                self._delta(item, event, out)
        elif isinstance(event, BlockStart):
            self._start(event.index, event.block, out)
        elif isinstance(event, BlockStop):
            item = self._by_block.get(event.index)
            if item is not None and not item.closed:
                self._close(item, out)
        elif isinstance(event, MessageStart):
            self._begin(event.usage, out)
        elif isinstance(event, MessageDelta):
            self._stop_reason = event.stop_reason
            self._usage = merge_usage(self._usage, event.usage)
        elif isinstance(event, MessageStop):
            self._complete(out)
        elif isinstance(event, StreamError):
            self._fail(event, out)

    def _response(self, status: str, **fields: Any) -> dict[str, Any]:
        return response_object(self.response_id, self.model, self.created_at, self.options,
                               status=status, **fields)

    def _begin(self, usage: Usage, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        self._usage = usage
        for kind in ("response.created", "response.in_progress"):
            self._emit(out, kind, {"response": self._response("in_progress", output=[])})

    def _start(self, index: int, block: Block, out: list[bytes]) -> None:
        kind = _KINDS.get(type(block))
        if kind is None:
            return
        self._begin(Usage(), out)
        client = None
        if isinstance(block, ToolUseBlock):
            client = self.options.tool_map.get(block.name)
            kind = _call_kind(client)
        number = len(self._items)
        item = _Item(kind, item_id(self.response_id, kind, number), number, client=client)
        if isinstance(block, ToolUseBlock):
            item.call_id, item.name = block.id, block.name
        self._items.append(item)
        self._by_block[index] = item
        self._emit(out, "response.output_item.added",
                   {"output_index": number, "item": self._item_json(item, "in_progress")})
        if kind == "message":
            self._emit(out, "response.content_part.added",
                       {**item.where(), "content_index": 0, "part": output_text_part("")})

    def _delta(self, item: _Item, event: Event, out: list[bytes]) -> None:
        if isinstance(event, SignatureDelta):
            item.signature.append(event.signature)
        elif isinstance(event, TextDelta) and item.kind == "message" and event.text:
            item.parts.append(event.text)
            self._emit(out, "response.output_text.delta",
                       {**item.where(), "content_index": 0, "delta": event.text,
                        "logprobs": []})
        elif isinstance(event, InputJsonDelta) and event.partial_json:
            item.parts.append(event.partial_json)
            if item.kind == "function_call":
                self._emit(out, "response.function_call_arguments.delta",
                           {**item.where(), "delta": event.partial_json})
        elif isinstance(event, ThinkingDelta) and item.kind == "reasoning" and event.thinking:
            if not item.summary_open:
                item.summary_open = True
                self._emit(out, "response.reasoning_summary_part.added",
                           {**item.where(), "summary_index": 0, "part": summary_part("")})
            item.parts.append(event.thinking)
            self._emit(out, "response.reasoning_summary_text.delta",
                       {**item.where(), "summary_index": 0, "delta": event.thinking})

    def _close(self, item: _Item, out: list[bytes]) -> None:
        text = "".join(item.parts)
        if item.kind == "message":
            self._emit(out, "response.output_text.done",
                       {**item.where(), "content_index": 0, "text": text, "logprobs": []})
            self._emit(out, "response.content_part.done",
                       {**item.where(), "content_index": 0, "part": output_text_part(text)})
        elif item.kind == "function_call":
            if not text.strip():  # a call without arguments still gets a JSON object
                item.parts = ["{}"]
                self._emit(out, "response.function_call_arguments.delta",
                           {**item.where(), "delta": "{}"})
            name = item.client.name if item.client else item.name
            self._emit(out, "response.function_call_arguments.done",
                       {**item.where(), "name": name, "arguments": "".join(item.parts)})
        elif item.kind == "custom_tool_call":
            raw = custom_input(parse_arguments(text))
            if raw:
                self._emit(out, "response.custom_tool_call_input.delta",
                           {**item.where(), "delta": raw})
            self._emit(out, "response.custom_tool_call_input.done",
                       {**item.where(), "input": raw})
        elif item.summary_open:
            self._emit(out, "response.reasoning_summary_text.done",
                       {**item.where(), "summary_index": 0, "text": text})
            self._emit(out, "response.reasoning_summary_part.done",
                       {**item.where(), "summary_index": 0, "part": summary_part(text)})
        item.closed = True
        self._emit(out, "response.output_item.done",
                   {"output_index": item.output_index, "item": self._item_json(item, "completed")})

    def _item_json(self, item: _Item, status: str) -> dict[str, Any]:
        text = "".join(item.parts)
        if item.kind == "message":
            return message_item(item.id, text if item.closed or item.parts else None, status)
        if item.kind != "reasoning":
            if item.kind == "custom_tool_call" and not item.closed:
                text = ""  # its input is only known whole
            return call_item(item.kind, item.id, item.call_id, item.name, text, status,
                             item.client)
        encrypted = "".join(item.signature) if self.options.include_encrypted_reasoning else None
        return reasoning_item(item.id, [text] if item.summary_open else [], encrypted)

    def _output(self) -> list[dict[str, Any]]:
        return [self._item_json(item, "completed" if item.closed else "in_progress")
                for item in self._items]

    def _complete(self, out: list[bytes]) -> None:
        self._begin(Usage(), out)
        for item in self._items:
            if not item.closed:
                self._close(item, out)
        status, incomplete = final_status(self._stop_reason)
        self._emit(out, "response.completed", {"response": self._response(
            status, output=self._output(), usage=usage_object(self._usage),
            incomplete_details=incomplete)})
        self._ended = True

    def _fail(self, error: StreamError, out: list[bytes]) -> None:
        if not self._started:
            failure = error_object(error)
            self._emit(out, "error", {"code": failure["code"], "message": failure["message"],
                                      "param": None})
        else:
            self._emit(out, "response.failed", {"response": self._response(
                "failed", output=self._output(), usage=usage_object(self._usage),
                error=error_object(error))})
        self._ended = True


def render_response(response: Response, response_id: str, model: str, created_at: int,
                    options: ResponsesClientOptions) -> dict[str, Any]:
    """The whole response object of a non-streamed answer (the stream's final object)."""
    output: list[dict[str, Any]] = []
    for block in response.content:
        kind = _KINDS.get(type(block))
        if kind is None:
            continue
        client = None
        if isinstance(block, ToolUseBlock):
            client = options.tool_map.get(block.name)
            kind = _call_kind(client)
        id_ = item_id(response_id, kind, len(output))
        if isinstance(block, TextBlock):
            output.append(message_item(id_, block.text, "completed"))
        elif isinstance(block, ToolUseBlock):
            output.append(call_item(kind, id_, block.id, block.name,
                                    orjson.dumps(block.input).decode(), "completed", client))
        elif isinstance(block, ThinkingBlock):
            encrypted = block.signature if options.include_encrypted_reasoning else None
            output.append(reasoning_item(id_, [block.thinking] if block.thinking else [],
                                         encrypted))
    status, incomplete = final_status(response.stop_reason)
    return response_object(response_id, model, created_at, options, status=status,
                           output=output, usage=usage_object(response.usage),
                           incomplete_details=incomplete)


def output_message(response: Response) -> Message:
    """The assistant turn to store for a later ``previous_response_id`` (empty text dropped)."""
    return Message("assistant", tuple(
        b for b in response.content if not (isinstance(b, TextBlock) and not b.text)))


def stored_conversation(request: Request, options: ResponsesClientOptions,
                        response: Response) -> tuple[Message, ...]:
    """What to store under this response's id: the history a continuation is parsed with.

    Instructions are not carried over (OpenAI's rule); system text from input items is, as a
    leading system message that ``parse_responses_request`` lifts back into the system prompt.
    """
    lead = (Message("system", options.input_system),) if options.input_system else ()
    return (*lead, *request.messages, output_message(response))
