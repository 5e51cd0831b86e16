"""Health probes: liveness never depends on upstreams; readiness turns 503 on shutdown."""

from __future__ import annotations

from lynkr import __version__
from lynkr.server.asgi import Receive, Scope, Send, send_json
from lynkr.server.state import AppState


class HealthEndpoint:
    def __init__(self, state: AppState, kind: str) -> None:
        self.state = state
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.kind == "live":
            await send_json(send, 200, {"status": "alive"})
            return
        ready = self.state.ready
        if self.kind == "ready":
            await send_json(send, 200 if ready else 503,
                            {"status": "ready" if ready else "shutting_down"})
            return
        await send_json(send, 200, {
            "status": "ok" if ready else "shutting_down",
            "version": __version__,
            "provider": self.state.settings.model_provider,
            "model": self.state.settings.provider.model,
            "pipeline": self.state.pipeline.name,
        })
