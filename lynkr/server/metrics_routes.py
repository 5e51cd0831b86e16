"""/metrics/prometheus (text exposition) and /metrics/observability (the same, as JSON)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from lynkr.server.asgi import Receive, Scope, Send, send_json
from lynkr.server.state import AppState


class PrometheusEndpoint:
    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.state.metrics.exposition()
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
        await send_json(send, 200, {"metrics": out})
