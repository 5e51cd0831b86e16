"""route: choose the provider and upstream model that will answer.

Assumes: the providers in ``ports`` are configured (settings validated them at start-up).
Guarantees: every request leaves with a route; the reason is recorded.
Never: calls a provider (resilience and fallback live around the transport).
"""

from __future__ import annotations

import attrs

from lynkr.model.errors import BadRequest
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange, Route


@attrs.frozen
class RouteConfig:
    provider: str | None = None  # None: the configured MODEL_PROVIDER


def route(exchange: Exchange, config: RouteConfig, ports: Ports) -> Exchange:
    name = config.provider or ports.default_provider
    info = ports.providers.get(name)
    if info is None:
        raise BadRequest(f"route: provider {name!r} is not configured")
    reason = "pipeline provider" if config.provider else "configured provider"
    chosen = Route(provider=name, model=info.model, reason=reason)
    return exchange.noted("route", f"{name} ({reason})", route=chosen)
