"""Ollama NDJSON bytes → canonical events, incrementally.

Tool calls arrive whole (arguments as objects, maybe without ids); ``done_reason`` says
``stop`` even after tool calls, so the stop reason is derived from what came; usage is
``prompt_eval_count`` / ``eval_count`` (either may be missing).
"""

from __future__ import annotations

from typing import Any

import orjson

from lynkr.formats.frames import MALFORMED, count, malformed, obj, text
from lynkr.formats.lines import DEFAULT_MAX_LINE_BYTES, LineBuffer
from lynkr.formats.opening import Opening
from lynkr.formats.toolcalls import AnswerBuilder
from lynkr.model.events import Event, StreamError, Usage

DONE_TO_STOP = {"stop": "end_turn", "length": "max_tokens"}


class OllamaStreamParser:
    def __init__(self, message_id: str, model: str, input_estimate: int = 0,
                 taken_ids: frozenset[str] = frozenset(), sign_for: str | None = None,
                 max_line: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self._lines = LineBuffer(max_line)
        self._answer = AnswerBuilder(message_id, taken_ids, sign_for)
        self._opening = Opening(message_id, model, input_estimate)
        self._estimate = input_estimate
        self.done = False

    def feed(self, data: bytes) -> list[Event]:
        out = self._opening.events()
        if self.done:
            return out
        try:
            for line in self._lines.feed(data):
                if self.done:
                    break
                if line.strip():
                    self._line(orjson.loads(line), out)
        except MALFORMED as exc:
            self.done = True
            out.append(malformed(exc))
        return out

    def close(self) -> list[Event]:
        out = self._opening.events()
        rest = self._lines.rest()
        if rest.strip() and not self.done:
            try:
                self._line(orjson.loads(rest), out)
            except orjson.JSONDecodeError:
                pass  # a body cut inside its last line: reported as a cut below
            except MALFORMED as exc:
                self.done = True
                out.append(malformed(exc))
        if not self.done:
            self.done = True
            out.append(StreamError("api_error",
                                   "upstream stream ended before the answer was complete"))
        return out

    def _line(self, frame: dict[str, Any], out: list[Event]) -> None:
        frame = obj(frame, "the frame")
        if "error" in frame:
            self.done = True
            error = frame["error"]
            out.append(StreamError("api_error", error if isinstance(error, str) else str(error)))
            return
        message = obj(frame.get("message"), "message")
        thinking = text(message.get("thinking"), "message.thinking")
        if thinking:
            self._answer.thinking(thinking, out, field="thinking")
        content = text(message.get("content"), "message.content")
        if content:
            self._answer.text(content, out)
        for call in message.get("tool_calls") or ():
            function = obj(obj(call, "tool_calls[]").get("function"), "function")
            key = ("call", len(self._answer.calls))
            pending = self._answer.call(key, call.get("id"), function.get("name"))
            arguments = function.get("arguments")
            if isinstance(arguments, dict):
                pending.whole = arguments
            elif isinstance(arguments, str):
                pending.arguments.append(arguments)
        if frame.get("done"):
            self.done = True
            usage = Usage(
                input_tokens=count(frame.get("prompt_eval_count")) or self._estimate,
                output_tokens=count(frame.get("eval_count")),
            )
            stop = DONE_TO_STOP.get(text(frame.get("done_reason"), "done_reason") or "stop",
                                    "end_turn")
            self._answer.finish(stop, usage, out)

