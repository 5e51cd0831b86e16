"""Anthropic Messages request JSON ⇄ canonical Request.

Accepts everything Claude Code sends: ``role: "system"`` items inside ``messages``, adaptive
thinking, ``context_management``, ``output_config``, ``cache_control`` anywhere, tools with
``$schema`` or ``defer_loading``. Fields the model does not type are kept in ``extra``; they are
never an error.
"""

from __future__ import annotations

from typing import Any, cast

from lynkr.formats.anthropic.blocks import parse_content, render_block
from lynkr.formats.jsonvalue import (
    opt_int,
    opt_number,
    opt_object,
    required,
    want,
)
from lynkr.model.content import EMPTY, TextBlock
from lynkr.model.errors import BadRequest
from lynkr.model.request import Message, Request, Role, Tool

_ROLES = frozenset(("user", "assistant", "system"))
_MODELLED = frozenset((
    "model", "messages", "max_tokens", "system", "stream", "tools", "tool_choice", "thinking",
    "temperature", "top_p", "top_k", "stop_sequences", "metadata",
))
_TOOL_KEYS = frozenset(("name", "description", "input_schema", "type"))


def parse_request(
    obj: dict[str, Any], *, betas: tuple[str, ...] = (), need_max_tokens: bool = True
) -> Request:
    model = want(str, required(obj, "model", ""), "model", "a string")
    if not model:
        raise BadRequest("model: must not be empty")
    raw_messages = want(list, required(obj, "messages", ""), "messages", "an array")
    messages = tuple(_parse_message(m, i) for i, m in enumerate(raw_messages))
    max_tokens = opt_int(obj, "max_tokens", "")
    if max_tokens is None:
        if need_max_tokens:
            raise BadRequest("max_tokens: field required")
        max_tokens = 0
    elif max_tokens < 0:
        raise BadRequest("max_tokens: must be at least 0")
    stop = obj.get("stop_sequences") or ()
    want((list, tuple), stop, "stop_sequences", "an array of strings")
    extra = {k: v for k, v in obj.items() if k not in _MODELLED}
    return Request(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        system=_parse_system(obj.get("system")),
        stream=_stream(obj.get("stream")),
        tools=_parse_tools(obj.get("tools")),
        tool_choice=opt_object(obj, "tool_choice", ""),
        thinking=opt_object(obj, "thinking", ""),
        temperature=opt_number(obj, "temperature", ""),
        top_p=opt_number(obj, "top_p", ""),
        top_k=opt_int(obj, "top_k", ""),
        stop_sequences=tuple(want(str, s, "stop_sequences", "a string") for s in stop),
        metadata=opt_object(obj, "metadata", ""),
        extra=extra or EMPTY,
        betas=betas,
    )


def _parse_message(raw: Any, i: int) -> Message:
    path = f"messages.{i}"
    obj = want(dict, raw, path, "a message object")
    role = required(obj, "role", path + ".")
    if not isinstance(role, str) or role not in _ROLES:
        raise BadRequest(f"{path}.role: expected 'user', 'assistant' or 'system', got {role!r}")
    content = parse_content(required(obj, "content", path + "."), path + ".content")
    return Message(cast(Role, role), content)


def _parse_system(value: Any) -> tuple[TextBlock, ...]:
    if value is None:
        return ()
    blocks = parse_content(value, "system")
    for i, block in enumerate(blocks):
        if not isinstance(block, TextBlock):
            raise BadRequest(f"system.{i}: expected a text block")
    return blocks  # type: ignore[return-value]


def _parse_tools(value: Any) -> tuple[Tool, ...]:
    if value is None:
        return ()
    items = want(list, value, "tools", "an array")
    tools = []
    for i, raw in enumerate(items):
        path = f"tools.{i}"
        obj = want(dict, raw, path, "a tool object")
        name = want(str, required(obj, "name", path + "."), path + ".name", "a string")
        kind = obj.get("type")
        schema = obj.get("input_schema")
        if schema is None and kind in (None, "custom"):
            raise BadRequest(f"{path}.input_schema: field required")
        extra = {k: v for k, v in obj.items() if k not in _TOOL_KEYS}
        tools.append(Tool(
            name=name,
            description=want(str, obj.get("description", ""), path + ".description", "a string"),
            input_schema=want(dict, schema, path + ".input_schema", "an object")
            if schema is not None else EMPTY,
            type=kind,
            extra=extra or EMPTY,
        ))
    return tuple(tools)


def render_request(request: Request) -> dict[str, Any]:
    """The canonical request as an Anthropic Messages body (extra fields included)."""
    out: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": [
            {"role": m.role, "content": [render_block(b) for b in m.content]}
            for m in request.messages
        ],
    }
    if request.system:
        out["system"] = [render_block(b) for b in request.system]
    if request.stream:
        out["stream"] = True
    if request.tools:
        out["tools"] = [render_tool(t) for t in request.tools]
    optional = {
        "tool_choice": request.tool_choice,
        "thinking": request.thinking,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "metadata": request.metadata,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if request.stop_sequences:
        out["stop_sequences"] = list(request.stop_sequences)
    out.update(request.extra)
    return out


def render_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.type is not None:
        out["type"] = tool.type
    if tool.description:
        out["description"] = tool.description
    if tool.input_schema or tool.type in (None, "custom"):
        out["input_schema"] = tool.input_schema
    out.update(tool.extra)
    return out


def _stream(value: Any) -> bool:
    """``stream``: a boolean or null; ``"false"`` must not turn into a stream."""
    return False if value is None else want(bool, value, "stream", "a boolean")
