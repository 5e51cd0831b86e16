"""Responses tool definitions → canonical tools, and the map back to each tool's own call item.

Accepts every tool kind clients send: flat ``function`` tools; ``namespace`` groups (Codex's
MCP and collaboration tools), whose tools are flattened into the list; ``custom`` (freeform)
tools, with or without a grammar, which become a function of one string parameter ``input``
(the grammar, which no chat backend can enforce, goes at the end of the tool's description);
client-executed ``tool_search``, which becomes a function with its own parameters; and hosted
tools only OpenAI can run (web_search, file_search, code_interpreter, image_generation,
computer use, remote MCP, ...), which are dropped and named in ``ParsedTools.dropped``.
Guarantees: a flattened name is the tool's own name unless another tool has it, then
``<namespace>__<name>``; the same tool list always gives the same canonical tools (the
prompt-cache prefix stays stable); ``ClientTool`` says how a call of each flattened name is
answered (``function_call`` with its namespace, ``custom_tool_call`` with ``input``, or
``tool_search_call``); ``tool_choice`` names a flattened tool, and one forcing a hosted tool
is a BadRequest.
Never: runs a hosted tool, or drops a function or custom tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import orjson

from lynkr.formats.jsonvalue import opt_object, opt_str, required, want
from lynkr.model.errors import BadRequest
from lynkr.model.request import Tool

__all__ = ["ClientTool", "ParsedTools", "custom_input", "flat_names", "parse_tools",
           "tool_choice"]

Kind = Literal["function", "custom", "tool_search"]
CUSTOM_INPUT = "input"
EMPTY_SCHEMA: Mapping[str, Any] = {"type": "object", "properties": {}}
CUSTOM_SCHEMA: Mapping[str, Any] = {
    "type": "object", "required": [CUSTOM_INPUT], "additionalProperties": False,
    "properties": {CUSTOM_INPUT: {"type": "string",
                                  "description": "The raw input of this tool (not JSON)."}}}
_TOOL_CHOICES: Mapping[str, Mapping[str, Any]] = {
    "auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}


@attrs.frozen
class ClientTool:
    """How the client named a tool: its kind, its own name and its namespace (if any)."""

    kind: Kind
    name: str
    namespace: str | None = None


@attrs.frozen
class ParsedTools:
    tools: tuple[Tool, ...] = ()
    by_name: Mapping[str, ClientTool] = attrs.field(factory=dict)  # flattened name → client's
    dropped: tuple[str, ...] = ()  # hosted tool types no backend behind Lynkr can run


def parse_tools(groups: list[tuple[list[Any], str]]) -> ParsedTools:
    """Tool lists (each with its JSON path) → canonical tools in order, namespaces flattened."""
    found: list[tuple[ClientTool, Tool]] = []
    dropped: list[str] = []
    for raw_tools, path in groups:
        for i, raw in enumerate(raw_tools):
            _collect(raw, f"{path}.{i}", None, found, dropped)
    counts: dict[str, int] = {}
    for client, _ in found:
        counts[client.name] = counts.get(client.name, 0) + 1
    tools: list[Tool] = []
    by_name: dict[str, ClientTool] = {}
    for client, tool in found:
        flat = client.name
        if client.namespace and counts[client.name] > 1:
            flat = f"{client.namespace}__{client.name}"
        if flat in by_name:
            continue  # the same tool sent twice (tools and additional_tools): keep the first
        by_name[flat] = client
        tools.append(attrs.evolve(tool, name=flat))
    return ParsedTools(tuple(tools), by_name, tuple(dropped))


def flat_names(parsed: ParsedTools) -> Mapping[tuple[str | None, str], str]:
    """(namespace, client name) → flattened name, to read calls in the history."""
    return {(c.namespace, c.name): flat for flat, c in parsed.by_name.items()}


def tool_choice(value: Any, parallel: bool, parsed: ParsedTools
                 ) -> Mapping[str, Any] | None:
    choice: Mapping[str, Any] | None
    if value is None:
        choice = None
    elif isinstance(value, str):
        choice = _TOOL_CHOICES.get(value)
        if choice is None:
            raise BadRequest(f"tool_choice: expected 'auto', 'required' or 'none', got {value!r}")
    else:
        choice = named_choice(want(dict, value, "tool_choice", "a string or an object"),
                               parsed)
    if not parsed.tools:
        return None  # Anthropic-shaped upstreams reject a tool_choice without tools
    if not parallel and (choice is None or choice["type"] != "none"):
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    return choice


def named_choice(obj: dict[str, Any], parsed: ParsedTools) -> Mapping[str, Any]:
    kind = _text(obj, "type", "tool_choice")
    if kind in ("function", "custom"):
        name = _text(obj, "name", "tool_choice")
        namespace = opt_str(obj, "namespace", "tool_choice.")
        return {"type": "tool", "name": flat_names(parsed).get((namespace, name), name)}
    if kind == "allowed_tools":
        mode = obj.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise BadRequest(f"tool_choice.mode: expected 'auto' or 'required', got {mode!r}")
        return _TOOL_CHOICES[mode]
    if kind == "tool_search" and "tool_search" in parsed.by_name:
        return {"type": "tool", "name": "tool_search"}
    raise BadRequest(f"tool_choice.type: the client requires the hosted tool {kind!r}, which "
                     "this proxy cannot run (it only runs function and custom tools)")


def _text(obj: Mapping[str, Any], key: str, path: str) -> str:
    return want(str, required(obj, key, path + "."), f"{path}.{key}", "a string")


def _collect(raw: Any, path: str, namespace: str | None,
             found: list[tuple[ClientTool, Tool]], dropped: list[str]) -> None:
    obj = want(dict, raw, path, "a tool object")
    kind = want(str, required(obj, "type", path + "."), path + ".type", "a string")
    if kind == "namespace":
        if namespace is not None:
            raise BadRequest(f"{path}: namespaces do not nest")
        name = _name(obj, path)
        inner = want(list, obj.get("tools") or [], path + ".tools", "an array")
        for j, tool in enumerate(inner):
            _collect(tool, f"{path}.tools.{j}", name, found, dropped)
    elif kind == "function":
        name = _name(obj, path)
        schema = opt_object(obj, "parameters", path + ".") or EMPTY_SCHEMA
        found.append((ClientTool("function", name, namespace),
                      Tool(name, _description(obj, path), schema)))
    elif kind == "custom":
        name = _name(obj, path)
        found.append((ClientTool("custom", name, namespace),
                      Tool(name, _custom_description(obj, path), CUSTOM_SCHEMA)))
    elif kind == "tool_search" and obj.get("execution", "client") == "client":
        schema = opt_object(obj, "parameters", path + ".") or EMPTY_SCHEMA
        found.append((ClientTool("tool_search", "tool_search", namespace),
                      Tool("tool_search", _description(obj, path) or _SEARCH_TEXT, schema)))
    else:
        dropped.append(kind)


_SEARCH_TEXT = "Search for more tools by what they do; the ones found become callable."


def _name(obj: Mapping[str, Any], path: str) -> str:
    name = want(str, required(obj, "name", path + "."), path + ".name", "a string")
    if not name:
        raise BadRequest(f"{path}.name: must not be empty")
    return name


def _description(obj: Mapping[str, Any], path: str) -> str:
    return opt_str(obj, "description", path + ".") or ""


def _custom_description(obj: Mapping[str, Any], path: str) -> str:
    """The tool's description, then the syntax its input must follow: in the description, not
    the parameter's, which pipelines may strip (and at its end, after the tool's own words)."""
    form = opt_object(obj, "format", path + ".") or {}
    description = _description(obj, path)
    if form.get("type") != "grammar" or not form.get("definition"):
        return description
    syntax = form.get("syntax") or "lark"
    rule = (f"Put the raw input (not JSON) in `{CUSTOM_INPUT}`; it must match this {syntax} "
            f"grammar:\n{form['definition']}")
    return f"{description}\n\n{rule}" if description else rule


def custom_input(arguments: Mapping[str, Any]) -> str:
    """A custom tool's raw input from the canonical call's arguments."""
    value = arguments.get(CUSTOM_INPUT)
    if isinstance(value, str):
        return value
    if len(arguments) == 1:  # a model that named the parameter differently
        only = next(iter(arguments.values()))
        if isinstance(only, str):
            return only
    return orjson.dumps(arguments).decode() if arguments else ""
