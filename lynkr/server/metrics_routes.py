"""/metrics/prometheus (text exposition), /metrics/observability (the same, as JSON) and
/metrics/circuit-breakers (each provider's breaker, including trips other processes published
through Redis); the JSON ones carry the original Lynkr's shapes alongside
(lynkr.observability.original)."""

from __future__ import annotations

from typing import Any

import trio
from prometheus_client import CONTENT_TYPE_LATEST

from lynkr.observability.original import original_breaker
from lynkr.resilience.breaker import BreakerState
from lynkr.server.asgi import Receive, Scope, Send, send_json
from lynkr.server.state import AppState


async def adopt_shared_trips(state: AppState) -> None:
    """With a shared board (``REDIS_URL``), the trips other processes published, so what is
    reported is what this process would do with its next request."""
    board = state.shared.board if state.shared is not None else None
    if board is not None:
        for name, breaker in state.breakers.items():
            trip = await board.opened(name)
            if trip is not None:
                breaker.adopt(*trip, trio.current_time())


class PrometheusEndpoint:
    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await adopt_shared_trips(self.state)
        metrics = self.state.metrics
        metrics.breaker_states({name: breaker.state.value
                                for name, breaker in self.state.breakers.items()})
        body = metrics.exposition()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class ObservabilityEndpoint:
    """Every metric's samples as JSON, grouped by metric (histogram buckets left out)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        out: dict[str, Any] = {}
        for family in self.state.metrics.registry.collect():
            samples = [{"name": s.name, "labels": s.labels, "value": s.value}
                       for s in family.samples if not s.name.endswith("_bucket")
                       and not s.name.endswith("_created")]
            out[family.name] = {"help": family.documentation, "type": family.type,
                                "samples": samples}
        # the original Lynkr's blocks (requests, latency, tokens, cost, providers) alongside
        await send_json(send, 200, {"metrics": out, **self.state.metrics.original.observability()})


class BreakersEndpoint:
    """Each provider's breaker snapshot; an open one says how long until it goes half-open
    (it moves there at the next request after that, never on its own)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await adopt_shared_trips(self.state)
        now = trio.current_time()
        out: dict[str, Any] = {}
        for name, breaker in self.state.breakers.items():
            snapshot = breaker.snapshot()
            if breaker.state is BreakerState.OPEN:
                snapshot["half_open_in_s"] = round(
                    max(breaker.timeout_s - (now - breaker.opened_at), 0.0), 3)
            out[name] = snapshot
        # each provider at the top level too, in the original Lynkr's shape
        original = {name: original_breaker(
            out[name], now - breaker.opened_at if breaker.trips else None,
            out[name].get("half_open_in_s")) for name, breaker in self.state.breakers.items()}
        await send_json(send, 200, {**original, "circuit_breakers": out})
