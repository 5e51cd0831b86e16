"""What the pipeline did, as response headers and a log record."""

from __future__ import annotations

from typing import Any

from lynkr.pipeline.runner import StageTiming
from lynkr.server.asgi import header_value
from lynkr.stages.exchange import Exchange


def pipeline_headers(exchange: Exchange, timings: tuple[StageTiming, ...]
                     ) -> list[tuple[bytes, bytes]]:
    route = exchange.route
    notes = "; ".join(f"{n.stage}={n.summary}" for n in exchange.notes)
    timing = ", ".join(f"{t.stage};dur={t.micros / 1000:.3f}" for t in timings)
    removed = sum(n.tokens_removed for n in exchange.notes)
    by_stage = ", ".join(f"{n.stage}={n.tokens_removed}" for n in exchange.notes
                         if n.tokens_removed)
    headers = [
        (b"x-lynkr-stages", header_value(notes)),
        (b"x-lynkr-tokens-removed", str(removed).encode()),
        (b"x-lynkr-tokens-removed-by-stage", header_value(by_stage or "none")),
        (b"server-timing", header_value(timing)),
    ]
    if route is not None:
        headers.append((b"x-lynkr-route",
                        header_value(f"{route.provider}/{route.model}; reason={route.reason}")))
    return headers


def log_fields(exchange: Exchange, timings: tuple[StageTiming, ...]) -> dict[str, Any]:
    route = exchange.route
    return {
        "request_id": exchange.context.request_id,
        "session_id": exchange.context.session_id,
        "dialect": exchange.context.dialect,
        "client_model": exchange.context.client_model,
        "provider": route.provider if route else None,
        "upstream_model": route.model if route else None,
        "route_reason": route.reason if route else None,
        "stages": {n.stage: n.summary for n in exchange.notes},
        "stage_us": {t.stage: round(t.micros, 1) for t in timings},
        "tokens_removed": sum(n.tokens_removed for n in exchange.notes),
        "stage_tokens_removed": {n.stage: n.tokens_removed for n in exchange.notes},
        "cache": exchange.annotations.get("prompt_cache"),
    }


def fallback_headers(exchange: Exchange) -> list[tuple[bytes, bytes]]:
    """The route that really answered, after a fallback."""
    route = exchange.route
    assert route is not None
    return [(b"x-lynkr-fallback",
             header_value(f"{route.provider}/{route.model}; reason={route.reason}"))]
