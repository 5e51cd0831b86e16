"""OpenAI Responses request JSON → canonical Request, plus what only matters when answering.

Accepts: ``input`` as a string or an array of items (easy and typed messages of every role,
``function_call`` (namespaced or not), ``function_call_output``, ``custom_tool_call`` and its
output, ``tool_search_call`` and its output, ``local_shell_call``, ``reasoning``,
``additional_tools``), every tool kind (see ``tools``), every ``tool_choice`` form,
``reasoning.effort``, ``text.format`` json_schema / json_object, what Codex adds
(``prompt_cache_key``, ``include``, ``reasoning.context``, ``client_metadata``,
``text.verbosity``), and the canonical history of a ``previous_response_id`` (given by the
caller).
Guarantees: consecutive assistant items are one assistant turn; function outputs and the user
content right after them are one user turn with the results first; ``instructions`` and the
system/developer items before the first user item are the system prompt, later ones stay in
place; tools of ``additional_tools`` items and of ``tool_search_output`` items join the tool
list; hosted tools and input items no backend behind Lynkr can use (web search results,
compaction blobs, ...) are dropped and named in ``ResponsesClientOptions.dropped`` (the server
reports them in ``x-lynkr-stages`` and the log); fields it does not know are ignored; a wrong
type is a BadRequest naming its path.
Never: runs or emulates built-in tools, resolves item references, file ids, stored prompts or
server-side conversations (each is a BadRequest that names it), forces a tool it dropped (a
``tool_choice`` naming one is a BadRequest), or performs any I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lynkr.formats.jsonvalue import opt_int, opt_number, opt_object, opt_str, required, want
from lynkr.formats.openai_responses.parts import parse_parts
from lynkr.formats.openai_responses.tools import (
    ClientTool,
    flat_names,
    parse_tools,
    tool_choice,
)
from lynkr.formats.reasoning import ANY_PROVIDER, sign
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
from lynkr.model.request import Message, Request

__all__ = ["ResponsesClientOptions", "parse_responses_request"]

DEFAULT_TEXT: Mapping[str, Any] = {"format": {"type": "text"}}
ENCRYPTED_REASONING = "reasoning.encrypted_content"

_ROLES = ("user", "assistant", "system", "developer")
# OpenAI effort → Anthropic output_config.effort ("none" means: no thinking at all)
_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "max"}


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
    # flattened tool name -> how the client named it (namespace, custom, tool_search)
    tool_map: Mapping[str, ClientTool] = EMPTY
    dropped: tuple[str, ...] = ()  # what the request carried that no backend here can use

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
    items = _input_items(obj.get("input"))
    raw_tools = want(list, obj.get("tools") or [], "tools", "an array")
    parsed = parse_tools([(raw_tools, "tools"), *_item_tools(items)])
    conversation = _Conversation(history, flat_names(parsed))
    for i, item in enumerate(items):
        conversation.add(item, f"input.{i}")
    messages = conversation.messages()
    if not messages:
        raise BadRequest("input: field required (no user input to answer)")
    parallel = _opt_bool(obj, "parallel_tool_calls", default=True)
    choice = tool_choice(obj.get("tool_choice"), parallel, parsed)
    thinking, extra = _output_config(obj)
    max_tokens = opt_int(obj, "max_output_tokens", "")
    if max_tokens is not None and max_tokens < 1:
        raise BadRequest("max_output_tokens: must be at least 1")
    user = opt_str(obj, "user", "")
    system = ((TextBlock(instructions),) if instructions else ()) + conversation.system()
    request = Request(
        model=model,
        messages=messages,
        max_tokens=max_tokens or 0,  # 0: the client set no limit (map_model decides)
        system=system,
        stream=_opt_bool(obj, "stream", default=False),
        tools=parsed.tools,
        tool_choice=choice,
        thinking=thinking,
        temperature=opt_number(obj, "temperature", ""),
        top_p=opt_number(obj, "top_p", ""),
        metadata={"user_id": user} if user else None,
        extra=extra,
    )
    options = _options(obj, instructions, raw_tools, parallel, max_tokens,
                       conversation.system())
    dropped = tuple(f"hosted tool {kind}" for kind in dict.fromkeys(parsed.dropped)) + tuple(
        f"input item {kind}" for kind in dict.fromkeys(conversation.dropped))
    return request, attrs.evolve(options, tool_map=parsed.by_name, dropped=dropped)


def _item_tools(items: list[Any]) -> list[tuple[list[Any], str]]:
    """The tool lists that input items carry: ``additional_tools`` and found tools."""
    groups = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("type") in ("additional_tools",
                                                           "tool_search_output"):
            tools = want(list, item.get("tools") or [], f"input.{i}.tools", "an array")
            groups.append((tools, f"input.{i}.tools"))
    return groups


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

    def __init__(self, history: tuple[Message, ...],
                 names: Mapping[tuple[str | None, str], str]) -> None:
        self.names = names
        self.dropped: list[str] = []
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
            name = _str(obj, "name", path)
            namespace = opt_str(obj, "namespace", path + ".")
            self._call(obj, path, self.names.get((namespace, name), name),
                       parse_arguments(want(str, obj.get("arguments", ""),
                                            path + ".arguments", "a string")))
        elif kind == "custom_tool_call":
            name = _str(obj, "name", path)
            namespace = opt_str(obj, "namespace", path + ".")
            self._call(obj, path, self.names.get((namespace, name), name),
                       {"input": want(str, obj.get("input", ""), path + ".input", "a string")})
        elif kind == "tool_search_call":
            arguments = obj.get("arguments") or {}
            if isinstance(arguments, str):
                arguments = parse_arguments(arguments)
            self._call(obj, path, "tool_search",
                       want(dict, arguments, path + ".arguments", "an object"))
        elif kind == "local_shell_call":
            self._call(obj, path, "local_shell", opt_object(obj, "action", path + ".") or {})
        elif kind in ("function_call_output", "custom_tool_call_output",
                      "local_shell_call_output"):
            self._result(_str(obj, "call_id", path), required(obj, "output", path + "."), path)
        elif kind == "tool_search_output":
            self._result(_str(obj, "call_id", path), _found_tools(obj, path), path)
        elif kind == "reasoning":
            self._reasoning(obj, path)
        elif kind == "additional_tools":
            pass  # its tools joined the tool list
        elif kind == "item_reference":
            raise BadRequest(f"{path}: item references are not supported by this proxy;"
                             " send the items themselves")
        elif isinstance(obj.get("role"), str) and "content" in obj:
            self._message(obj, path)  # a message-like item of a newer kind
        else:
            self.dropped.append(kind)

    def _call(self, obj: dict[str, Any], path: str, name: str,
              arguments: Mapping[str, Any]) -> None:
        call_id = opt_str(obj, "call_id", path + ".") or _str(obj, "id", path)
        self._assistant([ToolUseBlock(call_id, name, arguments)])

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
        text = "\n\n".join(texts)
        signature = opt_str(obj, "encrypted_content", path + ".") or ""
        if text and not signature:  # readable reasoning goes back like a chat client's echo
            signature = sign(ANY_PROVIDER, {"reasoning_content": text})
        if text or signature:
            self._assistant([ThinkingBlock(text, signature)])


def _found_tools(obj: dict[str, Any], path: str) -> str:
    """A tool search's result as the model reads it: the names of the tools now callable."""
    names: list[str] = []
    for tool in want(list, obj.get("tools") or [], path + ".tools", "an array"):
        if isinstance(tool, dict):
            inner = tool.get("tools") if tool.get("type") == "namespace" else [tool]
            names.extend(str(t.get("name", "")) for t in inner or [] if isinstance(t, dict))
    return "Tools found: " + ", ".join(n for n in names if n) if names else "No tools found."


def _str(obj: Mapping[str, Any], key: str, path: str) -> str:
    return want(str, required(obj, key, path + "."), f"{path}.{key}", "a string")


def _texts(value: Any, path: str) -> list[str]:
    items = want(list, value or [], path, "an array")
    return [_str(want(dict, part, f"{path}.{i}", "an object"), "text", f"{path}.{i}")
            for i, part in enumerate(items)]


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
        name = opt_str(form, "name", "text.format.")
        if name:
            config["format"]["name"] = name
        if isinstance(form.get("strict"), bool):
            config["format"]["strict"] = form["strict"]
    elif form.get("type") == "json_object":
        config["format"] = {"type": "json_object"}
    return thinking, ({"output_config": config} if config else EMPTY)
