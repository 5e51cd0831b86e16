"""OpenAI Chat Completions SSE bytes → canonical events, incrementally.

Tolerates what real servers send: SSE comments, content as a string or as a list of text and
reasoning items (Databricks Claude endpoints), chunks with empty ``choices`` (Azure filter
results, the usage chunk), ``delta.reasoning_content`` / ``delta.reasoning``, tool calls whole or
in fragments, interleaved by index or without ids, usage on the last content chunk, a missing
``[DONE]`` after a finish, and ``data: {"error": ...}`` in the middle of a stream.
"""

from __future__ import annotations

from typing import Any

import orjson

from lynkr.formats.frames import MALFORMED, malformed, obj, text
from lynkr.formats.lines import DEFAULT_MAX_LINE_BYTES
from lynkr.formats.opening import Opening
from lynkr.formats.sse import SseDecoder
from lynkr.formats.toolcalls import AnswerBuilder
from lynkr.formats.upstream_errors import find_message
from lynkr.model.events import Event, StreamError, Usage

FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def usage_from_openai(obj: dict[str, Any] | None) -> Usage:
    if not obj:
        return Usage()
    details = obj.get("prompt_tokens_details") or {}
    # OpenAI's cached_tokens; DeepSeek's own field for the same figure
    cached = details.get("cached_tokens") or obj.get("prompt_cache_hit_tokens") or 0
    written = details.get("cache_write_tokens") or 0
    prompt = obj.get("prompt_tokens") or 0
    return Usage(
        input_tokens=max(prompt - cached - written, 0),
        output_tokens=obj.get("completion_tokens") or 0,
        cache_creation_input_tokens=written,
        cache_read_input_tokens=cached,
    )


class ChatStreamParser:
    def __init__(self, message_id: str, model: str, input_estimate: int = 0,
                 taken_ids: frozenset[str] = frozenset(), sign_for: str | None = None,
                 max_line: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._decoder = SseDecoder(max_line)
        self._answer = AnswerBuilder(message_id, taken_ids, sign_for)
        self._opening = Opening(message_id, model, input_estimate)
        self._finish: str | None = None
        self._usage = Usage(input_tokens=input_estimate)
        self.done = False

    def feed(self, data: bytes) -> list[Event]:
        out = self._opening.events()
        if self.done:
            return out
        try:
            for _name, payload in self._decoder.feed(data):
                if self.done:
                    break
                if payload == b"[DONE]":
                    self._end(out)
                    break
                self._chunk(orjson.loads(payload), out)
        except MALFORMED as exc:
            self.done = True
            out.append(malformed(exc))
        return out

    def close(self) -> list[Event]:
        """End of the upstream body: finish if the answer was complete, else an error."""
        out = self._opening.events()
        if not self.done:
            try:
                for _name, payload in self._decoder.flush():
                    if payload == b"[DONE]":
                        break
                    try:
                        chunk = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        break  # the body was cut inside this frame
                    self._chunk(chunk, out)
            except MALFORMED as exc:
                self.done = True
                out.append(malformed(exc))
        if not self.done:
            if self._finish is not None:
                self._end(out)
            else:
                self.done = True
                out.append(StreamError("api_error",
                                       "upstream stream ended before the answer was complete"))
        return out

    def _chunk(self, chunk: dict[str, Any], out: list[Event]) -> None:
        chunk = obj(chunk, "the chunk")
        if "error" in chunk and not chunk.get("choices"):
            self.done = True
            out.append(StreamError("api_error", find_message(chunk) or "upstream error"))
            return
        if chunk.get("usage"):
            self._usage = usage_from_openai(chunk["usage"])
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = obj(obj(choice, "choices[]").get("delta"), "delta")
            shown = False
            for field in ("reasoning_content", "reasoning"):
                reasoning = delta.get(field)
                if isinstance(reasoning, str) and reasoning:
                    self._answer.thinking(reasoning, out, field=field)
                    shown = True
                    break
            details = delta.get("reasoning_details")
            if isinstance(details, list) and details:
                self._answer.details(details, out, shown)
            content = delta.get("content")
            if isinstance(content, str):
                self._answer.text(content, out)
            elif isinstance(content, list):
                self._items(content, out)
            for position, call in enumerate(delta.get("tool_calls") or ()):
                function = obj(obj(call, "tool_calls[]").get("function"), "function")
                pending = self._answer.call(call.get("index", position), call.get("id"),
                                            function.get("name"))
                arguments = function.get("arguments")
                if isinstance(arguments, dict):
                    pending.whole = arguments
                elif arguments:
                    pending.arguments.append(text(arguments, "function.arguments"))
            finish = choice.get("finish_reason")
            if finish == "error":
                self.done = True
                out.append(StreamError("api_error", find_message(chunk) or "upstream error"))
                return
            if finish:
                self._finish = finish

    def _items(self, items: list[Any], out: list[Event]) -> None:
        """Content as a list (Databricks Claude endpoints): text and reasoning items."""
        for item in items:
            if not isinstance(item, dict):
                continue
            kind = item.get("type")
            if kind == "text" and isinstance(item.get("text"), str):
                self._answer.text(item["text"], out)
            elif kind == "reasoning":
                for part in item.get("summary") or ():
                    if isinstance(part, dict):
                        text, signature = part.get("text"), part.get("signature")
                        self._answer.thinking(text if isinstance(text, str) else "", out,
                                              signature if isinstance(signature, str) else "")

    def _end(self, out: list[Event]) -> None:
        self.done = True
        stop = FINISH_TO_STOP.get(self._finish or "stop", "end_turn")
        self._answer.finish(stop, self._usage, out)
