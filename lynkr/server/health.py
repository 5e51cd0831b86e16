"""Health probes: liveness never depends on upstreams; readiness turns 503 on shutdown.

``/health/ready?deep=true`` also probes every configured provider (the GET ``lynkr check``
makes, concurrently, each bounded by ``DEEP_PROBE_TIMEOUT_S``): 200 when the default provider
answers, 503 otherwise, with each provider's result (never its URL: the endpoint is not
authenticated). Probes run at most once per ``HEALTH_DEEP_MIN_INTERVAL_MS``; calls in between
get the last result (``age_s`` says how old). Point a load balancer at the plain probe.
Readiness is 503 while the load shedder refuses requests for memory (``shedding``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import trio

from lynkr import __version__
from lynkr.check import probe_async
from lynkr.server.asgi import Receive, Scope, Send, send_json
from lynkr.server.state import AppState

DEEP_PROBE_TIMEOUT_S = 2.0


class HealthEndpoint:
    def __init__(self, state: AppState, kind: str) -> None:
        self.state = state
        self.kind = kind
        self._probing = trio.Lock()
        self._last: tuple[float, dict[str, dict[str, Any]]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.kind == "live":
            await send_json(send, 200, {"status": "alive"})
            return
        ready = self.state.ready
        if self.kind == "ready":
            shedding = self.state.shedding() if ready else None
            if ready and shedding is None and _deep(scope):
                await self._deep(send)
                return
            status = "shutting_down" if not ready else "ready" if shedding is None \
                else "shedding"
            await send_json(send, 200 if status == "ready" else 503,
                            {"status": status, **({"reason": shedding} if shedding else {})})
            return
        await send_json(send, 200, {
            "status": "ok" if ready else "shutting_down",
            "version": __version__,
            "provider": self.state.settings.model_provider,
            "model": self.state.settings.provider.model,
            "pipeline": self.state.pipeline.name,
            **({"pipeline_version": self.state.pipeline_version}
               if self.state.pipeline_version else {}),
        })

    async def _deep(self, send: Send) -> None:
        now, interval = trio.current_time(), self.state.settings.limits.deep_health_interval_s
        async with self._probing:  # concurrent deep calls share one round of probes
            last = self._last
            if last is None or now - last[0] >= interval:
                last = self._last = (trio.current_time(),
                                     await probe_providers(self.state, DEEP_PROBE_TIMEOUT_S))
        taken_at, results = last
        default = self.state.settings.model_provider
        ok = results.get(default, {}).get("ok", False)
        await send_json(send, 200 if ok else 503, {
            "status": "ready" if ok else "default_provider_unavailable",
            "default_provider": default, "providers": results,
            "age_s": round(trio.current_time() - taken_at, 1),
            # the original Lynkr's shape alongside (`jq .checks.ollama`)
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "checks": {name: {"healthy": r["ok"], "latency": r["ms"]}
                       for name, r in results.items()}})


def _deep(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1").lower()
    return any(part in ("deep=true", "deep=1", "deep") for part in query.split("&"))


async def probe_providers(state: AppState, timeout: float) -> dict[str, dict[str, Any]]:
    """Each configured provider probed at once; a probe slower than ``timeout`` fails."""
    results: dict[str, dict[str, Any]] = {}

    async def one(name: str, client: httpx.AsyncClient) -> None:
        settings = state.settings.providers[name]
        started = trio.current_time()
        ok, message = False, f"{name}: no answer within {timeout:g}s"
        with trio.move_on_after(timeout):
            ok, message = await probe_async(settings, client, timeout)
        results[name] = {"ok": ok, "detail": message,
                         "ms": round((trio.current_time() - started) * 1000, 1)}

    async with httpx.AsyncClient(trust_env=True) as client, trio.open_nursery() as nursery:
        for name in state.upstreams:
            nursery.start_soon(one, name, client)
    return results
