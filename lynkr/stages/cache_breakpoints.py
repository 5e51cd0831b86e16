"""cache_breakpoints: let a backend's own prompt cache hit, by marking a byte-stable prefix.

Assumes: a route is set; put it after every stage that changes the request (a mark must sit on
the final prefix). For Anthropic-family backends (and Bedrock Claude) a ``cache_control`` mark
ends a cacheable prefix and the API accepts at most four.
Guarantees: for the families listed in ``families``: marks the client placed are kept (only
the earliest message marks are removed when there are more than ``max_breakpoints``); when the
client placed none, marks go at the end of the tools, the end of the system prompt and the last
block of the last two user turns, in that priority, up to ``max_breakpoints``. For other
families (OpenAI-compatible backends and Ollama cache prefixes automatically) no mark is added;
every request gets ``cache_key``, a digest of its session (the same for every turn), which the
request builder sends where the backend takes it (OpenAI's ``prompt_cache_key``, a llama.cpp
slot).
Never: reorders, adds or removes tools, system blocks, messages or content; changes text; sends
the session id itself (only a digest of it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from lynkr.model.content import (
    Block,
    ImageBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.request import Message, Request, Tool
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange
from lynkr.stages.session import session_key

EPHEMERAL: Mapping[str, Any] = {"type": "ephemeral"}
MARKABLE = (TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock)


def _within_limit(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= 4:
        raise ValueError(f"max_breakpoints must be between 1 and 4, got {value}")


@attrs.frozen
class CacheBreakpointsConfig:
    families: Sequence[str] = ("anthropic", "bedrock")
    max_breakpoints: int = attrs.field(default=4, validator=_within_limit)
    ttl: str | None = None  # e.g. "1h" for Anthropic's longer cache; None: the default 5m


def cache_breakpoints(exchange: Exchange, config: CacheBreakpointsConfig, ports: Ports
                      ) -> Exchange:
    assert exchange.route is not None
    family = ports.providers[exchange.route.provider].family
    key = hashlib.sha256(session_key(exchange).encode()).hexdigest()[:32]
    exchange = attrs.evolve(exchange, request=attrs.evolve(exchange.request, cache_key=key))
    if family not in config.families:
        return exchange.noted("cache_breakpoints",
                              f"{family}: no marks (the backend caches prefixes itself)")
    request = exchange.request
    existing = count_marks(request)
    if existing > config.max_breakpoints:
        trimmed = _trim(request, existing - config.max_breakpoints)
        return exchange.noted("cache_breakpoints",
                              f"kept {count_marks(trimmed)} of {existing} client marks",
                              request=trimmed)
    if existing:
        return exchange.noted("cache_breakpoints", f"kept {existing} client marks")
    mark = dict(EPHEMERAL, ttl=config.ttl) if config.ttl else EPHEMERAL
    placed, marked = _place(request, config.max_breakpoints, mark)
    if not placed:
        return exchange.noted("cache_breakpoints", "nothing to mark")
    return exchange.noted("cache_breakpoints", "marked " + ", ".join(placed), request=marked)


def count_marks(request: Request) -> int:
    """How many ``cache_control`` marks the request carries (tools, system, messages)."""
    return (sum(1 for t in request.tools if "cache_control" in t.extra)
            + sum(1 for b in request.system if b.cache_control is not None)
            + sum(1 for m in request.messages for b in m.content
                  if getattr(b, "cache_control", None) is not None))


def _place(request: Request, limit: int, mark: Mapping[str, Any]
           ) -> tuple[list[str], Request]:
    placed: list[str] = []
    changes: dict[str, Any] = {}
    if request.tools and len(placed) < limit:
        last = request.tools[-1]
        changes["tools"] = (*request.tools[:-1],
                            attrs.evolve(last, extra={**last.extra, "cache_control": mark}))
        placed.append("tools")
    if request.system and len(placed) < limit:
        changes["system"] = (*request.system[:-1],
                             attrs.evolve(request.system[-1], cache_control=mark))
        placed.append("system")
    messages = list(request.messages)
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    for i in reversed(users[-2:]):
        if len(placed) >= limit:
            break
        message = _mark_last_block(messages[i], mark)
        if message is not None:
            messages[i] = message
            changes["messages"] = tuple(messages)
            placed.append(f"user turn {i}")
    return placed, attrs.evolve(request, **changes)


def _mark_last_block(message: Message, mark: Mapping[str, Any]) -> Message | None:
    for j in range(len(message.content) - 1, -1, -1):
        block = message.content[j]
        if isinstance(block, MARKABLE):
            content = (*message.content[:j], attrs.evolve(block, cache_control=mark),
                       *message.content[j + 1:])
            return Message(message.role, content)
    return None


def _trim(request: Request, excess: int) -> Request:
    """Remove ``excess`` marks, earliest first: marks inside the tools and the system prompt
    other than at their ends, then the earliest message marks (the shortest prefixes)."""
    tools: list[Tool] = []
    for tool in request.tools:
        if excess and "cache_control" in tool.extra and tool is not request.tools[-1]:
            tool = attrs.evolve(tool, extra={k: v for k, v in tool.extra.items()
                                             if k != "cache_control"})
            excess -= 1
        tools.append(tool)
    system: list[TextBlock] = []
    for text in request.system:
        if excess and text.cache_control is not None and text is not request.system[-1]:
            text = attrs.evolve(text, cache_control=None)
            excess -= 1
        system.append(text)
    messages: list[Message] = []
    for message in request.messages:
        content: list[Block] = []
        for block in message.content:
            if excess and getattr(block, "cache_control", None) is not None:
                block = attrs.evolve(block, cache_control=None)  # type: ignore[misc,arg-type]
                excess -= 1
            content.append(block)
        messages.append(Message(message.role, tuple(content)))
    return attrs.evolve(request, tools=tuple(tools), system=tuple(system),
                        messages=tuple(messages))
