"""capability_filter: drop what the routed backend does not accept, and say what was dropped.

Assumes: a route is set; ``ports.providers`` knows the route's wire family.
Guarantees: for non-Anthropic families the request carries no betas, no Anthropic-only
top-level fields (``context_management``, ``output_config`` but its ``format`` for the families
that have structured output, which the format module renders as ``response_format`` or Ollama's
``format``; a format a family cannot take is named with a WARNING), no ``defer_loading``
stand-in tools and no server tools (web_search_*, ...); JSON-schema keywords listed for the
provider are removed from tool schemas at every depth; thinking blocks in the history are
dropped (their signatures mean nothing elsewhere) except the ones whose ``lynkr:`` signature
carries this very provider's reasoning, or reasoning an OpenAI Chat client echoed (both sent
back to the backends that want it);
``output_config.effort`` survives as ``thinking["effort"]`` for the reasoning controls.
Message-level ``cache_control`` marks are left to the format module, which does not send them to
these families. For the Anthropic family everything is kept (an OpenAI client's output format
in Anthropic's shape, ``json_object`` dropped with a WARNING) except thinking blocks with
foreign signatures (empty or ``lynkr:``), which a real Anthropic backend rejects; if that leaves
a thinking-on tool loop without its leading thinking block, thinking is turned off.
Bedrock keeps its betas and thinking history (the format keeps what Claude there accepts) and
``cache_control`` (it becomes ``cachePoint``); a model without tool use (a Bedrock model without
it, an Ollama model whose ``/api/show`` lists no ``tools``) loses its tools, with a WARNING in the
note (the ``x-lynkr-stages`` header); image URLs, which Ollama cannot take (the format sends
inline images only), are named with a WARNING too.
Never: removes a client tool a conversation can call (but for a model that cannot call any), or
touches message text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from lynkr.formats.bedrock.models import supports_tools
from lynkr.formats.json_schema import strip_keywords
from lynkr.formats.output_format import SUPPORTED, anthropic_format, output_format
from lynkr.formats.reasoning import carried_for, is_foreign
from lynkr.model.content import (
    ImageBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)
from lynkr.model.request import Message, Request, Tool
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

BILLING_PREFIX = "x-anthropic-billing-header:"
# an assistant turn that held only foreign thinking keeps its place (Anthropic rejects empty turns)
EMPTIED = (TextBlock("(thinking omitted)"),)


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
        return _anthropic(exchange, ports)
    request = exchange.request
    dropped: list[str] = []
    removed_text: list[str] = []
    changes: dict[str, Any] = {}
    if request.extra:
        fmt = output_format(request)
        kept = {"output_config": {"format": fmt}} \
            if fmt is not None and fmt.get("type") in SUPPORTED.get(info.family, ()) else {}
        dropped.extend(sorted(k for k in request.extra if k not in kept))
        if fmt is not None and not kept:
            dropped.append(f"WARNING: output format {fmt.get('type')} (no equivalent on "
                           f"{info.family}; the answer is free text)")
        changes["extra"] = kept
        thinking = _fold_effort(request)
        if thinking is not None:
            changes["thinking"] = thinking
    if request.betas and info.family != "bedrock":  # bedrock: Claude takes some, in the body
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
    toolless = (info.family == "bedrock" and not supports_tools(request.model)) or (
        info.family == "ollama" and ports.tool_support(info.name, request.model) is False)
    if request.tools and toolless:
        changes["tools"] = ()
        dropped.append(f"all tools (WARNING: {request.model} has no tool use on {info.name})")
        removed_text.extend(t.description for t in request.tools)
    # bedrock: Claude's own signatures stay valid there; the format drops the rest
    if config.drop_thinking_history and info.family != "bedrock":
        messages = _drop_thinking(request.messages, info.name)
        if messages is not None:
            changes["messages"] = messages
            dropped.append("thinking history")
            removed_text.extend(b.thinking for m in request.messages if m.role == "assistant"
                                for b in m.content if isinstance(b, ThinkingBlock)
                                and not _own(b, info.name))
    if info.family == "ollama" and (urls := _url_images(request.messages)):
        # the format sends only inline images to Ollama: say so rather than lose them silently
        dropped.append(f"WARNING: {urls} image URL(s) not sent (Ollama takes only inline "
                       "base64 images)")
    if not changes and not dropped:
        return exchange.noted("capability_filter", "nothing to drop")
    saved = sum(ports.count_tokens(t) for t in removed_text)
    return exchange.noted("capability_filter", "dropped " + ", ".join(dropped), saved,
                          request=attrs.evolve(request, **changes))


def _url_images(messages: tuple[Message, ...]) -> int:
    return sum(1 for m in messages if m.role == "user" for b in m.content
               if isinstance(b, ImageBlock) and b.source.get("type") != "base64")


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


def _own(block: Any, provider: str) -> bool:
    """A thinking block carrying ``provider``'s own reasoning, or reasoning an OpenAI client
    echoed (kept for the echo)."""
    return isinstance(block, ThinkingBlock) and carried_for(block.signature, provider)


def _drop_thinking(messages: tuple[Message, ...], provider: str) -> tuple[Message, ...] | None:
    def drop(b: Any) -> bool:
        return isinstance(b, RedactedThinkingBlock) or (
            isinstance(b, ThinkingBlock) and not _own(b, provider))

    if not any(drop(b) for m in messages if m.role == "assistant" for b in m.content):
        return None
    return tuple(
        Message(m.role, tuple(b for b in m.content if not drop(b)))
        if m.role == "assistant" else m
        for m in messages
    )


def _fold_effort(request: Request) -> Mapping[str, Any] | None:
    config = request.extra.get("output_config")
    effort = config.get("effort") if isinstance(config, Mapping) else None
    thinking = request.thinking
    if not effort or not thinking or thinking.get("type") not in ("adaptive", "enabled"):
        return None
    return {**thinking, "effort": effort}


def _anthropic(exchange: Exchange, ports: Ports) -> Exchange:
    exchange = _anthropic_format(exchange)
    request = exchange.request

    def foreign(b: Any) -> bool:
        return isinstance(b, ThinkingBlock) and is_foreign(b.signature)

    if not any(foreign(b) for m in request.messages if m.role == "assistant"
               for b in m.content):
        return exchange.noted("capability_filter", "anthropic family: kept all")
    removed = [b.thinking for m in request.messages if m.role == "assistant"
               for b in m.content if isinstance(b, ThinkingBlock) and foreign(b)]
    messages = tuple(
        Message(m.role, tuple(b for b in m.content if not foreign(b)) or EMPTIED)
        if m.role == "assistant" else m for m in request.messages)
    changes: dict[str, Any] = {"messages": messages}
    note = f"dropped {len(removed)} foreign thinking blocks"
    if _tool_loop_lacks_thinking(messages) and request.thinking \
            and request.thinking.get("type") in ("enabled", "adaptive"):
        changes["thinking"] = None
        edits = (request.extra.get("context_management") or {}).get("edits")
        if edits:
            kept = [e for e in edits if not str(e.get("type", "")).startswith("clear_thinking")]
            changes["extra"] = {**request.extra,
                                "context_management": {**request.extra["context_management"],
                                                       "edits": kept}}
        note += ", thinking off for this tool loop"
    saved = sum(ports.count_tokens(t) for t in removed)
    return exchange.noted("capability_filter", note, saved,
                          request=attrs.evolve(request, **changes))


def _anthropic_format(exchange: Exchange) -> Exchange:
    """An OpenAI client's output format in Anthropic's own shape (json_object has none)."""
    request = exchange.request
    fmt = output_format(request)
    if fmt is None:
        return exchange
    native = anthropic_format(fmt)
    if native == fmt:
        return exchange
    config = {k: v for k, v in request.extra["output_config"].items() if k != "format"}
    if native is not None:
        config["format"] = native
    extra = {k: v for k, v in request.extra.items() if k != "output_config"}
    if config:
        extra["output_config"] = config
    note = "output format as Anthropic's" if native is not None else \
        f"WARNING: output format {fmt.get('type')} dropped (Anthropic has no equivalent)"
    return exchange.noted("capability_filter", note,
                          request=attrs.evolve(request, extra=extra))


def _tool_loop_lacks_thinking(messages: tuple[Message, ...]) -> bool:
    """The last assistant turn used tools but no longer starts with a thinking block."""
    last = next((m for m in reversed(messages) if m.role == "assistant"), None)
    if last is None or not any(isinstance(b, ToolUseBlock) for b in last.content):
        return False
    return not isinstance(last.content[0], (ThinkingBlock, RedactedThinkingBlock))
