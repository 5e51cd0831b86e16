"""capability_filter: drop what the routed backend does not accept, and say what was dropped.

Assumes: a route is set; ``ports.providers`` knows the route's wire family.
Guarantees: for non-Anthropic families the request carries no betas, no Anthropic-only
top-level fields (``context_management``, ``output_config``, ...), no ``defer_loading``
placeholder tools and no server tools (web_search_*, ...); JSON-schema keywords listed for the
provider are removed from tool schemas at every depth; thinking blocks in the history are
dropped (their signatures mean nothing elsewhere). Message-level ``cache_control`` marks are
left to the format module, which does not send them to these families.
Never: removes a client tool a conversation can call, or touches message text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from lynkr.model.content import RedactedThinkingBlock, ThinkingBlock
from lynkr.model.request import Message, Tool
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

BILLING_PREFIX = "x-anthropic-billing-header:"


@attrs.frozen
class CapabilityFilterConfig:
    strip_billing_header: bool = True
    drop_thinking_history: bool = True
    # provider name -> JSON-schema keywords to remove (e.g. for grammar-based local servers)
    schema_drop_keywords: Mapping[str, Sequence[str]] = attrs.field(factory=dict)


def capability_filter(exchange: Exchange, config: CapabilityFilterConfig, ports: Ports
                      ) -> Exchange:
    assert exchange.route is not None
    info = ports.providers[exchange.route.provider]
    if info.family == "anthropic":
        return exchange.noted("capability_filter", "anthropic family: kept all")
    request = exchange.request
    dropped: list[str] = []
    removed_text: list[str] = []
    changes: dict[str, Any] = {}
    if request.extra:
        dropped.extend(sorted(request.extra))
        changes["extra"] = {}
    if request.betas:
        dropped.append(f"{len(request.betas)} betas")
        changes["betas"] = ()
    if config.strip_billing_header and any(
            b.text.startswith(BILLING_PREFIX) for b in request.system):
        changes["system"] = tuple(b for b in request.system
                                  if not b.text.startswith(BILLING_PREFIX))
        removed_text.extend(b.text for b in request.system if b.text.startswith(BILLING_PREFIX))
        dropped.append("billing header")
    tools = _filter_tools(request.tools, config.schema_drop_keywords.get(info.name, ()),
                          dropped, removed_text)
    if tools is not None:
        changes["tools"] = tools
    if config.drop_thinking_history:
        messages = _drop_thinking(request.messages)
        if messages is not None:
            changes["messages"] = messages
            dropped.append("thinking history")
            removed_text.extend(b.thinking for m in request.messages if m.role == "assistant"
                                for b in m.content if isinstance(b, ThinkingBlock))
    if not changes:
        return exchange.noted("capability_filter", "nothing to drop")
    saved = sum(ports.count_tokens(t) for t in removed_text)
    return exchange.noted("capability_filter", "dropped " + ", ".join(dropped), saved,
                          request=attrs.evolve(request, **changes))


def _filter_tools(tools: tuple[Tool, ...], keywords: Sequence[str], dropped: list[str],
                  removed_text: list[str]) -> tuple[Tool, ...] | None:
    kept = []
    for tool in tools:
        if tool.deferred or tool.is_server_tool:
            dropped.append(f"tool {tool.name}")
            removed_text.append(tool.description)
            continue
        if keywords:
            tool = attrs.evolve(tool, input_schema=strip_keywords(tool.input_schema,
                                                                  frozenset(keywords)))
        kept.append(tool)
    if len(kept) == len(tools) and not keywords:
        return None
    if keywords:
        dropped.append("schema keywords " + ",".join(keywords))
    return tuple(kept)


def strip_keywords(schema: Any, keywords: frozenset[str]) -> Any:
    """``schema`` without ``keywords`` at any depth (property names are never touched)."""
    if isinstance(schema, list):
        return [strip_keywords(s, keywords) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: strip_keywords(v, keywords) for name, v in value.items()}
        else:
            out[key] = strip_keywords(value, keywords)
    return out


def _drop_thinking(messages: tuple[Message, ...]) -> tuple[Message, ...] | None:
    kinds = (ThinkingBlock, RedactedThinkingBlock)
    if not any(isinstance(b, kinds) for m in messages if m.role == "assistant"
               for b in m.content):
        return None
    return tuple(
        Message(m.role, tuple(b for b in m.content if not isinstance(b, kinds)))
        if m.role == "assistant" else m
        for m in messages
    )


