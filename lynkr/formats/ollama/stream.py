"""Ollama NDJSON bytes → canonical events, incrementally.

Tool calls arrive whole (arguments as objects, maybe without ids); ``done_reason`` says
``stop`` even after tool calls, so the stop reason is derived from what came; usage is
``prompt_eval_count`` / ``eval_count`` (either may be missing).
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson

from lynkr.formats.opening import Opening
from lynkr.formats.toolcalls import AnswerBuilder
from lynkr.model.events import Event, StreamError, Usage

DONE_TO_STOP = {"stop": "end_turn", "length": "max_tokens"}


class OllamaStreamParser:
    def __init__(self, message_id: str, model: str, input_estimate: int = 0,
                 taken_ids: frozenset[str] = frozenset(), sign_for: str | None = None) -> None:
        self._buffer = b""
        self._answer = AnswerBuilder(message_id, taken_ids, sign_for)
        self._opening = Opening(message_id, model, input_estimate)
        self._estimate = input_estimate
        self.done = False

    def feed(self, data: bytes) -> list[Event]:
        out = self._opening.events()
        buffer = self._buffer + data if self._buffer else data
        lines = buffer.split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if self.done:
                break
            if line.strip():
                self._line(orjson.loads(line), out)
        return out

    def close(self) -> list[Event]:
        out: list[Event] = []
        if self._buffer.strip() and not self.done:
            # A body cut inside its last line leaves JSON that cannot parse: drop it.
            with contextlib.suppress(orjson.JSONDecodeError):
                out.extend(self.feed(b"\n"))
        out.extend(self._opening.events())
        if not self.done:
            self.done = True
            out.append(StreamError("api_error",
                                   "upstream stream ended before the answer was complete"))
        return out

    def _line(self, obj: dict[str, Any], out: list[Event]) -> None:
        if "error" in obj:
            self.done = True
            error = obj["error"]
            out.append(StreamError("api_error", error if isinstance(error, str) else str(error)))
            return
        message = obj.get("message") or {}
        thinking = message.get("thinking")
        if thinking:
            self._answer.thinking(thinking, out, field="thinking")
        content = message.get("content")
        if content:
            self._answer.text(content, out)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            key = ("call", len(self._answer.calls))
            pending = self._answer.call(key, call.get("id"), function.get("name"))
            arguments = function.get("arguments")
            if isinstance(arguments, dict):
                pending.whole = arguments
            elif isinstance(arguments, str):
                pending.arguments.append(arguments)
        if obj.get("done"):
            self.done = True
            usage = Usage(
                input_tokens=obj.get("prompt_eval_count") or self._estimate,
                output_tokens=obj.get("eval_count") or 0,
            )
            stop = DONE_TO_STOP.get(obj.get("done_reason") or "stop", "end_turn")
            self._answer.finish(stop, usage, out)
