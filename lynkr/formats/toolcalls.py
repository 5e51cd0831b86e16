"""What translated upstreams share when they answer: tool-call assembly and message closing.

Tool calls from OpenAI-style and Ollama upstreams are gathered whole and emitted when the
answer ends, each as one tool_use block whose input is valid JSON. That costs nothing a client
shows (tool input is only acted on once complete) and buys three guarantees the live route
cannot give: interleaved parallel calls stay separate, truncated or sloppy JSON from local
models is repaired (or replaced by ``{}``) before Claude Code sees it, and ids are sanitised.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import orjson

from lynkr.formats.reasoning import details_text, merge_details, sign
from lynkr.model.content import TextBlock, ThinkingBlock, ToolUseBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStop,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    Usage,
)

_BAD_ID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def sanitize_id(value: str) -> str:
    return _BAD_ID_CHARS.sub("_", value)


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool arguments as an object: parsed, repaired where cut short, else ``{}``."""
    if isinstance(raw, dict):
        return raw
    if not raw or not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = _repair(raw)
    return value if isinstance(value, dict) else {}


def _repair(raw: str) -> Any:
    """Close what a truncated JSON object left open (strings, arrays, objects)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    fixed = raw + ('"' if in_string else "") + "".join(reversed(stack))
    try:
        return orjson.loads(fixed)
    except orjson.JSONDecodeError:
        return None


@attrs.define
class PendingCall:
    id: str
    name: str
    arguments: list[str] = attrs.Factory(list)
    whole: dict[str, Any] | None = None


class AnswerBuilder:
    """Turns an upstream's text, thinking and tool-call pieces into canonical events.

    One block is open at a time; indexes rise monotonically; tool calls are emitted at the end.
    """

    def __init__(self, message_id: str, taken_ids: frozenset[str] = frozenset(),
                 sign_for: str | None = None) -> None:
        self.message_id = message_id
        # provider whose reasoning is packed into the thinking block's signature (echo)
        self._sign_for = sign_for
        self._fields: dict[str, Any] = {}  # reasoning field -> text so far (or details list)
        self._signature = ""
        self.calls: dict[Any, PendingCall] = {}
        # ids the conversation already holds: an upstream that numbers its calls per answer
        # ("call_0" every time) would otherwise give Claude Code duplicate tool_use ids
        self._taken = set(taken_ids)
        self._next_index = 0
        self._open: str | None = None  # "text" | "thinking"

    def _switch(self, kind: str, out: list[Event]) -> int:
        if self._open != kind:
            self._close(out)
            self._open = kind
            block = TextBlock("") if kind == "text" else ThinkingBlock("")
            out.append(BlockStart(self._next_index, block))
        return self._next_index

    def _close(self, out: list[Event]) -> None:
        if self._open == "thinking":
            signature = self._signature or (
                sign(self._sign_for, self._fields) if self._sign_for and self._fields else "")
            if signature:
                out.append(SignatureDelta(self._next_index, signature))
            self._fields, self._signature = {}, ""
        if self._open is not None:
            out.append(BlockStop(self._next_index))
            self._next_index += 1
            self._open = None

    def text(self, text: str, out: list[Event]) -> None:
        if text:
            out.append(TextDelta(self._switch("text", out), text))

    def thinking(self, text: str, out: list[Event], signature: str = "",
                 field: str = "reasoning_content") -> None:
        """Reasoning text that came in ``field``; ``signature`` is a real one the upstream
        gave (Databricks Claude)."""
        if text or signature:
            index = self._switch("thinking", out)
            if text:
                out.append(ThinkingDelta(index, text))
                self._fields[field] = self._fields.get(field, "") + text
            if signature:
                self._signature = signature

    def details(self, pieces: list[Any], out: list[Event], shown: bool) -> None:
        """OpenRouter's ``reasoning_details`` pieces; their text is shown unless ``shown``
        already (the same reasoning came as a string too)."""
        self._switch("thinking", out)
        merge_details(self._fields.setdefault("reasoning_details", []), pieces)
        if not shown:
            text = details_text(pieces)
            if text:
                out.append(ThinkingDelta(self._next_index, text))

    def call(self, key: Any, call_id: str | None, name: str | None) -> PendingCall:
        """The pending call under ``key`` (an upstream index), created on first sight."""
        pending = self.calls.get(key)
        if pending is None:
            number = len(self.calls)
            fallback = f"toolu_{self.message_id.removeprefix('msg_')}_{number}"
            chosen = sanitize_id(call_id) if call_id else fallback
            if chosen in self._taken:
                chosen = fallback
            self._taken.add(chosen)
            pending = PendingCall(chosen, name or "")
            self.calls[key] = pending
        elif name and not pending.name:
            pending.name = name
        return pending

    def finish(self, stop_reason: str | None, usage: Usage, out: list[Event]) -> None:
        self._close(out)
        for pending in self.calls.values():
            args = pending.whole if pending.whole is not None else parse_arguments(
                "".join(pending.arguments))
            index = self._next_index
            self._next_index += 1
            out.append(BlockStart(index, ToolUseBlock(pending.id, pending.name, {})))
            out.append(InputJsonDelta(index, orjson.dumps(args).decode()))
            out.append(BlockStop(index))
        if self.calls:
            stop_reason = "tool_use"
        out.append(MessageDelta(stop_reason or "end_turn", usage))
        out.append(MessageStop())
