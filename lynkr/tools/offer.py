"""Which of Lynkr's own tools a request offers the model, beside the client's.

Assumes: the boxes' current tools, the client's tools, and what this session was offered
before (the JSON ``encode_offer`` wrote, or None).
Guarantees: a session keeps the first non-empty set it was offered, byte for byte, in the
same order, after the client's tools (the prompt cache holds when a box's set changes); a tool
whose name matches a client tool (case, ``_`` and ``-`` aside: ``web_search`` and Claude
Code's ``WebSearch`` are one tool) is never offered, and neither is a second tool of the same
name; the client's tools are never removed, renamed or reordered.
Never: does I/O or reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import orjson

from lynkr.model.request import Tool

OFFERED_KEY = "tools.offered"  # SessionStore key of a session's offered set
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


@attrs.frozen
class Offered:
    """One of Lynkr's tools as offered: the box that runs it and its definition."""

    box: str
    tool: Tool


@attrs.frozen
class Offer:
    tools: tuple[Offered, ...]  # offered, in order, after the client's tools
    skipped: tuple[str, ...] = ()  # Lynkr tools left out: the client has one of that name
    stored: str | None = None  # the set to keep for the session (None: already kept)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(o.tool.name for o in self.tools)

    def box_of(self, name: str) -> str | None:
        for offered in self.tools:
            if offered.tool.name == name:
                return offered.box
        return None


def same_name(name: str) -> str:
    """The name two tools are compared by: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", name.lower())


def decide_offer(
    client_tools: Sequence[Tool], current: Iterable[Offered], kept: str | None
) -> Offer:
    """The session's offer: ``kept`` when it decodes, else the boxes' ``current`` set (to be
    kept); without any tool the client sent under the same name."""
    offered = decode_offer(kept) if kept is not None else None
    stored = None
    if not offered:  # nothing kept (an empty set is not kept: boxes may still be starting)
        offered = _unique(current)
        stored = encode_offer(offered) if offered else None
    taken = {same_name(t.name) for t in client_tools}
    shown = tuple(o for o in offered if same_name(o.tool.name) not in taken)
    skipped = tuple(o.tool.name for o in offered if same_name(o.tool.name) in taken)
    return Offer(shown, skipped, stored)


def _unique(tools: Iterable[Offered]) -> tuple[Offered, ...]:
    seen: set[str] = set()
    out = []
    for offered in tools:
        key = same_name(offered.tool.name)
        if key not in seen:
            seen.add(key)
            out.append(offered)
    return tuple(out)


def encode_offer(offered: Sequence[Offered]) -> str:
    return orjson.dumps([{"box": o.box, "tool": _tool_json(o.tool)} for o in offered]).decode()


def decode_offer(text: str) -> tuple[Offered, ...] | None:
    """The offered set ``encode_offer`` wrote; None for anything else (decided afresh)."""
    try:
        items = orjson.loads(text)
        if not isinstance(items, list):
            return None
        return tuple(Offered(str(i["box"]), _tool(i["tool"])) for i in items)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _tool_json(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "input_schema": dict(tool.input_schema),
    }
    if tool.type is not None:
        out["type"] = tool.type
    if tool.extra:
        out["extra"] = dict(tool.extra)
    return out


def _tool(obj: Mapping[str, Any]) -> Tool:
    extra = obj.get("extra") or {}
    schema = obj.get("input_schema") or {}
    if not isinstance(schema, dict) or not isinstance(extra, dict):
        raise TypeError("a stored tool's schema and extra are objects")
    return Tool(str(obj["name"]), str(obj.get("description", "")), schema, obj.get("type"), extra)
