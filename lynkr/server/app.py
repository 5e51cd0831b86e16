"""The Starlette app: routes and error handlers declared as data, built once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lynkr.bench.record import SessionRecorder
from lynkr.cache import MemoryCache
from lynkr.config.errors import SettingsError
from lynkr.config.memory import memory_settings
from lynkr.config.output_limits import OutputLimits
from lynkr.config.settings import Env, Settings
from lynkr.config.tools import tool_loop_settings
from lynkr.embeddings import build_embedder
from lynkr.memory.build import build_memory_store
from lynkr.memory.model_call import ModelExtractor
from lynkr.memory.service import MemoryService
from lynkr.model.errors import LynkrError, MethodNotAllowed, NotFound
from lynkr.observability.cost import PriceTable, load_prices
from lynkr.observability.metrics import Metrics
from lynkr.pipeline.compile import Pipeline
from lynkr.pipeline.effective import load_pipeline
from lynkr.ports import Ports, Upstream
from lynkr.providers import build_upstreams, provider_infos
from lynkr.providers.model_capabilities import ToolSupport, fetch_tool_support
from lynkr.providers.model_limits import fetch_output_limits
from lynkr.resilience.breaker import CircuitBreaker
from lynkr.server.anthropic_routes import (
    CountTokensEndpoint,
    MessagesEndpoint,
    ModelEndpoint,
    ModelsEndpoint,
)
from lynkr.server.asgi import request_id
from lynkr.server.auth import KeyGate, build_access
from lynkr.server.embeddings_route import EmbeddingsEndpoint
from lynkr.server.errors import client_dialect, error_headers, error_payload
from lynkr.server.health import HealthEndpoint
from lynkr.server.metrics_routes import (
    BreakersEndpoint,
    ObservabilityEndpoint,
    PrometheusEndpoint,
)
from lynkr.server.openai_routes import ChatDialect, DialectEndpoint, ResponsesDialect
from lynkr.server.reload import PipelineReloader, version_name
from lynkr.server.shared_state import open_shared_state
from lynkr.server.shedding import LoadShedder
from lynkr.server.state import AppState
from lynkr.storage.responses import ResponseStore, StoreQuota
from lynkr.tools.assemble import open_toolboxes

MEMORY_DRAIN_S = 5.0  # at shutdown, at most this long for the queued memory extractions


def build_state(settings: Settings, upstreams: dict[str, Upstream] | None = None
                ) -> AppState:
    """Everything a server (or a worker process) runs, from ``settings`` alone."""
    loaded = load_pipeline(settings)
    pipeline = loaded.pipeline
    upstreams = upstreams if upstreams is not None else build_upstreams(settings)
    metrics = Metrics(prices=price_table(settings))
    shared = open_shared_state(settings, metrics)  # REDIS_URL: limits, breakers, cache, sessions
    memory = build_memory(settings, upstreams)
    ports = Ports(providers=provider_infos(upstreams), default_provider=settings.model_provider,
                  cache=shared.cache(response_cache(pipeline)), sessions=shared.sessions(),
                  output_limit=OutputLimits(), tool_support=ToolSupport(), memory=memory)
    resilience = settings.resilience
    breakers = {name: CircuitBreaker(name, resilience.breaker_failure_threshold,
                                     resilience.breaker_success_threshold,
                                     resilience.breaker_timeout_s) for name in upstreams}
    limits = settings.limits
    return AppState(settings, pipeline, ports, upstreams, embeddings=build_embedder(settings),
                    tool_loop=tool_loop_settings(Env(settings.environ)),
                    metrics=metrics, access=build_access(settings, metrics, metrics.prices,
                                                         shared.limiter, shared.ledger),
                    shared=shared,
                    responses=ResponseStore(settings.db_path, settings.responses_retention_s,
                                            StoreQuota(
                                                owner_bytes=limits.responses_owner_bytes,
                                                total_bytes=limits.responses_total_bytes)),
                    breakers=breakers, recorder=_recorder(settings), loaded=loaded,
                    pipeline_version=version_name(loaded, 1), memory=memory)


def build_memory(settings: Settings, upstreams: dict[str, Upstream]) -> MemoryService | None:
    """Long-term memory, unless ``MEMORY_ENABLED=false`` (its database opens on first use);
    with ``MEMORY_MODEL_EXTRACTION`` the default provider's model is asked what to remember."""
    config = memory_settings(Env(settings.environ))
    if not config.enabled:
        return None
    upstream = upstreams.get(settings.model_provider)
    extractor = ModelExtractor(upstream) if config.model_extraction and upstream else None
    return MemoryService(build_memory_store(settings, config), config, extractor=extractor)


def _recorder(settings: Settings) -> SessionRecorder | None:
    folder = settings.environ.get("LYNKR_RECORD_DIR", "").strip()
    return SessionRecorder(folder) if folder else None


def price_table(settings: Settings) -> PriceTable | None:
    """LYNKR_PRICES, else config/prices.yaml in the working directory or the checkout."""
    candidates = [Path(settings.prices_path)] if settings.prices_path else [
        Path("config/prices.yaml"), Path(__file__).resolve().parents[2] / "config/prices.yaml"]
    for path in candidates:
        if path.is_file():
            return load_prices(path)
    if settings.prices_path:
        raise SettingsError(f"LYNKR_PRICES: no price table at {settings.prices_path}")
    return None


def response_cache(pipeline: Pipeline) -> MemoryCache | None:
    """The in-process answer cache a stage of the pipeline asks for (``wants_cache``)."""
    for stage in pipeline.stages:
        size = stage.spec.wants_cache(stage.config) if stage.spec.wants_cache else None
        if size is not None:
            return MemoryCache(*size)
    return None


def _dialects(state: AppState) -> list[tuple[str, DialectEndpoint]]:
    """The OpenAI-dialect endpoints (also dispatched before Starlette, as hot paths)."""
    assert state.responses is not None
    return [("/v1/chat/completions", DialectEndpoint(state, ChatDialect())),
            ("/v1/responses", DialectEndpoint(state, ResponsesDialect(state.responses)))]


def _routes(state: AppState) -> list[Route]:
    routes = [
        Route("/v1/messages", MessagesEndpoint(state), methods=["POST"]),
        Route("/v1/messages/count_tokens", CountTokensEndpoint(state), methods=["POST"]),
        *(Route(path, endpoint, methods=["POST"]) for path, endpoint in _dialects(state)),
        Route("/v1/embeddings", EmbeddingsEndpoint(state), methods=["POST"]),
        Route("/v1/models", ModelsEndpoint(state), methods=["GET"]),
        Route("/v1/models/{model_id:path}", ModelEndpoint(state), methods=["GET"]),
        Route("/health", HealthEndpoint(state, "summary"), methods=["GET"]),
        Route("/v1/health", HealthEndpoint(state, "summary"), methods=["GET"]),
        Route("/health/live", HealthEndpoint(state, "live"), methods=["GET"]),
        Route("/metrics/prometheus", PrometheusEndpoint(state), methods=["GET"]),
        Route("/metrics/observability", ObservabilityEndpoint(state), methods=["GET"]),
        Route("/metrics/circuit-breakers", BreakersEndpoint(state), methods=["GET"]),
        Route("/health/ready", HealthEndpoint(state, "ready"), methods=["GET"]),
    ]
    return [r for r in routes if _served(r.path, state.settings)]


def _served(path: str, settings: Settings) -> bool:
    """The original's METRICS_ENABLED and HEALTH_CHECK_ENABLED: false leaves those paths out."""
    if path.startswith("/metrics/"):
        return settings.metrics_enabled
    if path.startswith(("/health", "/v1/health")):
        return settings.health_check_enabled
    return True


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """404/405 from the router, in the dialect the request speaks, with a request id."""
    assert isinstance(exc, HTTPException)
    rid = request_id(request.scope)
    error: LynkrError
    if exc.status_code == 405:
        error = MethodNotAllowed(f"method {request.method} is not allowed on {request.url.path}")
    else:
        error = NotFound(f"no endpoint at {request.method} {request.url.path}")
    status, body = error_payload(error, rid, client_dialect(request.scope))
    headers = {k.decode(): v.decode() for k, v in error_headers(error, rid)}
    return JSONResponse(body, status_code=status, headers={**headers, **(exc.headers or {})})


class FastPaths:
    """The per-request hot endpoints, dispatched before Starlette's middleware and router.

    Starlette wraps every ``send`` of a response in two middleware closures; for a stream of
    many small writes that is measurable. Anything not matched here (other paths, other
    methods, lifespan) goes to the Starlette app, which also answers 404/405.
    """

    def __init__(self, app: Starlette, routes: dict[tuple[str, str], Any]) -> None:
        self.app = app
        self.routes = routes
        self.state = app.state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                # served as the path without its slash: a redirect would be built from the
                # client's own Host header and could point anywhere
                scope = {**scope, "path": path.rstrip("/") or "/"}
            endpoint = self.routes.get((scope["method"], scope["path"]))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _stop_background(state: AppState) -> None:
    """Let the memory worker finish what is queued (bounded), then close everything."""
    if state.memory is not None:
        state.memory.close()
        await state.memory.drain(min(MEMORY_DRAIN_S, state.settings.graceful_timeout_s))
        state.memory.store.close()
    for upstream in state.upstreams.values():
        await upstream.aclose()
    if state.embeddings is not None:
        await state.embeddings.aclose()
    if state.responses is not None:
        state.responses.close()
    if state.access is not None:
        state.access.store.close()
    if state.shared is not None:
        await state.shared.aclose()


def build_app(state: AppState) -> LoadShedder:
    """The app behind the load shedder (health probes and metrics pass it untouched)."""
    shared = state.shared
    reloader = PipelineReloader(state, response_cache if shared is None
                                else lambda pipeline: shared.cache(response_cache(pipeline)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limits = state.ports.output_limit
        if isinstance(limits, OutputLimits):
            limits.learn(await fetch_output_limits(state.upstreams))
        tools = state.ports.tool_support
        if isinstance(tools, ToolSupport):
            tools.learn(await fetch_tool_support(state.upstreams))
        async with trio.open_nursery() as nursery:  # the app's background tasks
            reloader.start(nursery)
            if state.memory is not None:
                await nursery.start(state.memory.run)
            # the tool boxes live as long as the server: their tasks stop with it
            state.toolboxes += await open_toolboxes(
                state.settings, nursery, state.memory.store if state.memory else None)
            try:
                yield
            finally:
                with trio.CancelScope(shield=True):
                    await _stop_background(state)
                nursery.cancel_scope.cancel()

    app = Starlette(routes=_routes(state), exception_handlers={404: _http_error,
                                                               405: _http_error},
                    lifespan=lifespan)
    app.state.lynkr = state
    app.router.redirect_slashes = False  # never a redirect to the Host the client sent
    hot: dict[tuple[str, str], Any] = {("POST", path): endpoint
                                       for path, endpoint in _dialects(state)}
    hot[("POST", "/v1/messages")] = MessagesEndpoint(state)
    resilience = state.settings.resilience
    routed: Any = FastPaths(app, hot)
    if state.access is not None:
        routed = KeyGate(routed, state.access)
    shedder = LoadShedder(routed, max_active=resilience.shed_active_requests,
                          memory_fraction=resilience.shed_memory_fraction,
                          on_shed=state.metrics.shed_one, closing=lambda: not state.ready)
    state.shedding = shedder.memory_refusal
    return shedder
