"""route: choose the provider and upstream model that will answer, and the fallbacks after it.

Assumes: the providers in ``ports`` are configured (settings validated them at start-up).
Guarantees: every request leaves with a route and a reason; with ``tiers`` the request goes to
the first tier it fits (tool count, prompt size against the target's context window, thinking,
images; Claude Code's side requests to the first tier), the later tiers and ``fallbacks`` are
its fallback chain; a request with tools passes a model known to have no tool support for the
next provider of its chain; a provider the server forces (a fallback in progress) is chosen as
is.
Never: calls a provider (resilience and fallback live around the transport).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from lynkr.formats.token_text import request_text
from lynkr.model.errors import BadRequest
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange, Route
from lynkr.stages.route_rules import Tier, decide


@attrs.frozen
class RouteConfig:
    provider: str | None = None  # None: the configured MODEL_PROVIDER
    tiers: Sequence[Tier] = ()  # hybrid routing (PREFER_OLLAMA); empty: one provider
    fallbacks: Sequence[str] = ()  # FALLBACK_PROVIDER when FALLBACK_ENABLED


def route(exchange: Exchange, config: RouteConfig, ports: Ports) -> Exchange:
    forced = exchange.context.forced_provider
    if forced is not None:
        info = ports.providers[forced]
        remaining = exchange.route.fallbacks if exchange.route else ()
        chosen = Route(forced, info.model, exchange.context.forced_reason or "fallback",
                       tuple(p for p in remaining if p != forced), "fallback")
        return exchange.noted("route", f"{forced} ({chosen.reason})", route=chosen)
    if config.provider:
        name = config.provider
        if name not in ports.providers:
            raise BadRequest(f"route: provider {name!r} is not configured")
        chosen = Route(name, ports.providers[name].model, "pipeline provider",
                       tuple(f for f in config.fallbacks if f in ports.providers
                             and f != name), "pipeline")
        return exchange.noted("route", f"{name} ({chosen.reason})", route=chosen)
    decision = decide(exchange.request, config.tiers, config.fallbacks, ports.providers,
                      ports.default_provider,
                      lambda request: ports.count_tokens(request_text(request)))
    known = ports.providers.get(decision.provider)
    if known is None:
        raise BadRequest(f"route: provider {decision.provider!r} is not configured")
    chosen = Route(decision.provider, known.model, decision.reason, decision.fallbacks,
                   decision.kind)
    chosen = _past_toolless(chosen, exchange, ports)
    return exchange.noted("route", f"{chosen.provider} ({chosen.reason})", route=chosen)


def _past_toolless(chosen: Route, exchange: Exchange, ports: Ports) -> Route:
    """A request with tools skips a model known to have no tool support (Ollama's /api/show)
    for the first provider of its chain; with none, it stays (capability_filter drops the
    tools and says so)."""
    needs_tools = any(not t.deferred for t in exchange.request.tools)
    if not (needs_tools and chosen.fallbacks
            and ports.tool_support(chosen.provider, chosen.model) is False):
        return chosen
    after = chosen.fallbacks[0]
    return Route(after, ports.providers[after].model,
                 f"{chosen.provider}/{chosen.model} cannot call tools; {chosen.reason}",
                 chosen.fallbacks[1:], "fallback")
