"""OpenAI Responses request JSON → canonical Request, plus what only matters when answering.

Accepts: ``input`` as a string or an array of items (easy and typed messages of every role,
``function_call``, ``function_call_output``, ``reasoning``), flat function tools, every
``tool_choice`` form that names no built-in tool, ``reasoning.effort``, ``text.format``
json_schema, and the canonical history of a ``previous_response_id`` (given by the caller).
Guarantees: consecutive assistant items are one assistant turn; function outputs and the user
content right after them are one user turn with the results first; ``instructions`` and the
system/developer items before the first user item are the system prompt, later ones stay in
place; fields it does not know are dropped; a wrong type is a BadRequest naming its path.
Never: runs or emulates built-in tools, resolves item references, file ids, stored prompts or
server-side conversations (each is a BadRequest that names it), or performs any I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lynkr.formats.jsonvalue import opt_int, opt_number, opt_object, opt_str, required, want
from lynkr.formats.openai_responses.parts import parse_parts
from lynkr.formats.toolcalls import parse_arguments
from lynkr.model.content import (
    EMPTY,
    Block,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.errors import BadRequest
from lynkr.model.request import Message, Request, Tool

__all__ = ["DEFAULT_MAX_TOKENS", "ResponsesClientOptions", "parse_responses_request"]

DEFAULT_MAX_TOKENS = 8192
DEFAULT_TEXT: Mapping[str, Any] = {"format": {"type": "text"}}
ENCRYPTED_REASONING = "reasoning.encrypted_content"

_ROLES = ("user", "assistant", "system", "developer")
_TOOL_CHOICES: Mapping[str, Mapping[str, Any]] = {
    "auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}
# OpenAI effort → Anthropic output_config.effort ("none" means: no thinking at all)
_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "max"}
_EMPTY_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}


@attrs.frozen
class ResponsesClientOptions:
    """What only matters when answering: conversation state and the fields a response echoes.

    JSON-valued fields are the plain values the client sent. ``input_system`` is the system text
    lifted out of the stored history and the input items (not ``instructions``), kept so that a
    stored conversation carries it on to the next turn, as OpenAI's does.
    """

    previous_response_id: str | None = None
    store: bool = True
    instructions: str | None = None
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True
    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    metadata: Mapping[str, Any] = EMPTY
    text: Mapping[str, Any] = DEFAULT_TEXT
    reasoning: Mapping[str, Any] | None = None
    truncation: str = "disabled"
    user: str | None = None
    include: tuple[str, ...] = ()
    input_system: tuple[TextBlock, ...] = ()

    @property
    def include_encrypted_reasoning(self) -> bool:
        return ENCRYPTED_REASONING in self.include


def parse_responses_request(
    obj: dict[str, Any], history: tuple[Message, ...] = ()
) -> tuple[Request, ResponsesClientOptions]:
    """A Responses body (and the stored conversation it continues) → (Request, options)."""
    model = want(str, required(obj, "model", ""), "model", "a string")
    if not model:
        raise BadRequest("model: must not be empty")
    _reject_server_state(obj)
    instructions = opt_str(obj, "instructions", "")
    conversation = _Conversation(history)
    for i, item in enumerate(_input_items(obj.get("input"))):
        conversation.add(item, f"input.{i}")
    messages = conversation.messages()
    if not messages:
        raise BadRequest("input: field required (no user input to answer)")
    raw_tools = want(list, obj.get("tools") or [], "tools", "an array")
    tools = tuple(_parse_tool(t, f"tools.{i}") for i, t in enumerate(raw_tools))
    parallel = _opt_bool(obj, "parallel_tool_calls", default=True)
    choice = _tool_choice(obj.get("tool_choice"), parallel, bool(tools))
    thinking, extra = _output_config(obj)
    max_tokens = opt_int(obj, "max_output_tokens", "")
    if max_tokens is not None and max_tokens < 1:
        raise BadRequest("max_output_tokens: must be at least 1")
    user = opt_str(obj, "user", "")
    system = ((TextBlock(instructions),) if instructions else ()) + conversation.system()
    request = Request(
        model=model,
        messages=messages,
        max_tokens=max_tokens if max_tokens is not None else DEFAULT_MAX_TOKENS,
        system=system,
        stream=_opt_bool(obj, "stream", default=False),
        tools=tools,
        tool_choice=choice,
        thinking=thinking,
        temperature=opt_number(obj, "temperature", ""),
        top_p=opt_number(obj, "top_p", ""),
        metadata={"user_id": user} if user else None,
        extra=extra,
    )
    return request, _options(obj, instructions, raw_tools, parallel, max_tokens,
                             conversation.system())


def _options(obj: dict[str, Any], instructions: str | None, tools: list[Any], parallel: bool,
             max_tokens: int | None, input_system: tuple[TextBlock, ...]
             ) -> ResponsesClientOptions:
    text = opt_object(obj, "text", "")
    include = want(list, obj.get("include") or [], "include", "an array of strings")
    return ResponsesClientOptions(
        previous_response_id=opt_str(obj, "previous_response_id", ""),
        store=_opt_bool(obj, "store", default=True),
        instructions=instructions,
        tools=tuple(tools),
        tool_choice=obj.get("tool_choice") or "auto",
        parallel_tool_calls=parallel,
        temperature=opt_number(obj, "temperature", ""),
        top_p=opt_number(obj, "top_p", ""),
        max_output_tokens=max_tokens,
        metadata=opt_object(obj, "metadata", "") or EMPTY,
        text={**DEFAULT_TEXT, **text} if text else DEFAULT_TEXT,
        reasoning=opt_object(obj, "reasoning", ""),
        truncation=opt_str(obj, "truncation", "") or "disabled",
        user=opt_str(obj, "user", ""),
        include=tuple(want(str, v, f"include.{i}", "a string") for i, v in enumerate(include)),
        input_system=input_system,
    )


def _reject_server_state(obj: dict[str, Any]) -> None:
    """State that lives on OpenAI's servers cannot be answered by a stateless upstream."""
    for key, what in (("conversation", "server-side conversations"),
                      ("prompt", "stored prompt templates")):
        if obj.get(key) is not None:
            raise BadRequest(f"{key}: {what} are not supported by this proxy")
    if obj.get("background"):
        raise BadRequest("background: background responses are not supported by this proxy")


def _opt_bool(obj: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = obj.get(key)
    return default if value is None else want(bool, value, key, "a boolean")


def _input_items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return want(list, value, "input", "a string or an array of input items")


class _Conversation:
    """Input items folded into turns by the merge rules above."""

    def __init__(self, history: tuple[Message, ...]) -> None:
        self.lifted: list[TextBlock] = []  # leading system text of the stored conversation
        self.input_system: list[TextBlock] = []
        self.turns: list[tuple[str, list[Block]]] = []
        self.seen_user = False
        for message in history:
            if message.role == "system" and not self.seen_user:
                self.lifted.extend(b for b in message.content if isinstance(b, TextBlock))
            else:
                self.turns.append((message.role, list(message.content)))
                self.seen_user = self.seen_user or message.role == "user"

    def system(self) -> tuple[TextBlock, ...]:
        return (*self.lifted, *self.input_system)

    def messages(self) -> tuple[Message, ...]:
        return tuple(Message(role, tuple(content)) for role, content in self.turns)  # type: ignore[arg-type]

    def add(self, raw: Any, path: str) -> None:
        obj = want(dict, raw, path, "an input item object")
        kind = obj.get("type")
        if kind is None:
            kind = "message" if "role" in obj else "item_reference"
        kind = want(str, kind, path + ".type", "a string")
        if kind == "message":
            self._message(obj, path)
        elif kind == "function_call":
            self._assistant([ToolUseBlock(
                _str(obj, "call_id", path), _str(obj, "name", path),
                parse_arguments(want(str, obj.get("arguments", ""), path + ".arguments",
                                     "a string")))])
        elif kind == "function_call_output":
            self._result(_str(obj, "call_id", path), required(obj, "output", path + "."), path)
        elif kind == "reasoning":
            self._reasoning(obj, path)
        elif kind == "item_reference":
            raise BadRequest(f"{path}: item references are not supported by this proxy;"
                             " send the items themselves")
        else:
            raise BadRequest(f"{path}.type: input item type {kind!r} is not supported"
                             " by this proxy")

    def _message(self, obj: dict[str, Any], path: str) -> None:
        role = required(obj, "role", path + ".")
        if role not in _ROLES:
            raise BadRequest(f"{path}.role: expected 'user', 'assistant', 'system' or"
                             f" 'developer', got {role!r}")
        blocks = parse_parts(required(obj, "content", path + "."), path + ".content")
        if role == "user":
            self._user(blocks)
        elif role == "assistant":
            self._assistant(list(blocks))
        else:
            texts = [b for b in blocks if isinstance(b, TextBlock)]
            if len(texts) != len(blocks):
                raise BadRequest(f"{path}.content: {role} messages take text parts only")
            if self.seen_user:
                self.turns.append(("system", list(texts)))
            else:
                self.input_system.extend(texts)

    def _user(self, blocks: tuple[Block, ...]) -> None:
        self.seen_user = True
        last = self.turns[-1] if self.turns else None
        if last and last[0] == "user" and any(isinstance(b, ToolResultBlock) for b in last[1]):
            last[1].extend(blocks)
        else:
            self.turns.append(("user", list(blocks)))

    def _result(self, call_id: str, output: Any, path: str) -> None:
        content = () if output == "" else parse_parts(output, path + ".output")
        block = ToolResultBlock(call_id, content)
        self.seen_user = True
        last = self.turns[-1] if self.turns else None
        if last is None or last[0] != "user":
            self.turns.append(("user", [block]))
            return
        at = 0  # after the results already there, before any other content
        while at < len(last[1]) and isinstance(last[1][at], ToolResultBlock):
            at += 1
        last[1].insert(at, block)

    def _assistant(self, blocks: list[Block]) -> None:
        if self.turns and self.turns[-1][0] == "assistant":
            self.turns[-1][1].extend(blocks)
        else:
            self.turns.append(("assistant", blocks))

    def _reasoning(self, obj: dict[str, Any], path: str) -> None:
        texts = _texts(obj.get("summary"), path + ".summary")
        if not texts:
            texts = _texts(obj.get("content"), path + ".content")
        signature = opt_str(obj, "encrypted_content", path + ".") or ""
        if texts or signature:
            self._assistant([ThinkingBlock("\n\n".join(texts), signature)])


def _str(obj: Mapping[str, Any], key: str, path: str) -> str:
    return want(str, required(obj, key, path + "."), f"{path}.{key}", "a string")


def _texts(value: Any, path: str) -> list[str]:
    items = want(list, value or [], path, "an array")
    return [_str(want(dict, part, f"{path}.{i}", "an object"), "text", f"{path}.{i}")
            for i, part in enumerate(items)]


def _parse_tool(raw: Any, path: str) -> Tool:
    obj = want(dict, raw, path, "a tool object")
    kind = _str(obj, "type", path)
    if kind != "function":
        what = "tool type" if kind == "custom" else "built-in tool"
        raise BadRequest(f"{path}.type: {what} {kind!r} is not supported by this proxy")
    description = opt_str(obj, "description", path + ".") or ""
    schema = opt_object(obj, "parameters", path + ".")
    return Tool(_str(obj, "name", path), description, schema or _EMPTY_SCHEMA)


def _tool_choice(value: Any, parallel: bool, has_tools: bool) -> Mapping[str, Any] | None:
    choice: Mapping[str, Any] | None
    if value is None:
        choice = None
    elif isinstance(value, str):
        choice = _TOOL_CHOICES.get(value)
        if choice is None:
            raise BadRequest(f"tool_choice: expected 'auto', 'required' or 'none', got {value!r}")
    else:
        obj = want(dict, value, "tool_choice", "a string or an object")
        kind = _str(obj, "type", "tool_choice")
        if kind != "function":
            raise BadRequest(f"tool_choice.type: tool choice {kind!r} is not supported"
                             " by this proxy")
        choice = {"type": "tool", "name": _str(obj, "name", "tool_choice")}
    if not has_tools:
        return None  # Anthropic-shaped upstreams reject a tool_choice without tools
    if not parallel and (choice is None or choice["type"] != "none"):
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    return choice


def _output_config(obj: dict[str, Any]) -> tuple[Mapping[str, Any] | None, Mapping[str, Any]]:
    """``reasoning.effort`` and ``text.format`` → (thinking, extra with output_config)."""
    config: dict[str, Any] = {}
    thinking = None
    reasoning = opt_object(obj, "reasoning", "") or {}
    effort = opt_str(reasoning, "effort", "reasoning.")
    if effort is not None and effort != "none":
        if effort not in _EFFORTS:
            raise BadRequest(f"reasoning.effort: unknown effort {effort!r}")
        thinking = {"type": "adaptive"}
        config["effort"] = _EFFORTS[effort]
    text = opt_object(obj, "text", "") or {}
    form = opt_object(text, "format", "text.") or {}
    if form.get("type") == "json_schema":
        schema = want(dict, required(form, "schema", "text.format."), "text.format.schema",
                      "an object")
        config["format"] = {"type": "json_schema", "schema": schema}
    return thinking, ({"output_config": config} if config else EMPTY)
