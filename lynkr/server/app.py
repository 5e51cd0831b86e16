"""The Starlette app: routes and error handlers declared as data, built once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lynkr.bench.record import SessionRecorder
from lynkr.cache import MemoryCache, MemorySessionStore
from lynkr.config.context_windows import context_window
from lynkr.config.errors import SettingsError
from lynkr.config.output_limits import OutputLimits
from lynkr.config.routing import RoutingSettings
from lynkr.config.settings import Settings
from lynkr.embeddings import build_embedder
from lynkr.observability.cost import PriceTable, load_prices
from lynkr.observability.metrics import Metrics
from lynkr.pipeline.compile import Pipeline, compile_file, resolve
from lynkr.pipeline.env_overlay import apply_env
from lynkr.ports import Ports
from lynkr.providers import HttpProvider, build_providers, provider_infos
from lynkr.providers.model_limits import fetch_output_limits
from lynkr.resilience.breaker import CircuitBreaker
from lynkr.server.anthropic_routes import (
    CountTokensEndpoint,
    MessagesEndpoint,
    ModelEndpoint,
    ModelsEndpoint,
)
from lynkr.server.asgi import request_id
from lynkr.server.embeddings_route import EmbeddingsEndpoint
from lynkr.server.health import HealthEndpoint
from lynkr.server.metrics_routes import (
    BreakersEndpoint,
    ObservabilityEndpoint,
    PrometheusEndpoint,
)
from lynkr.server.openai_routes import ChatBinding, DialectEndpoint, ResponsesBinding
from lynkr.server.shedding import LoadShedder
from lynkr.server.state import AppState
from lynkr.stages.prompt_cache import PromptCacheConfig
from lynkr.stages.route import RouteConfig
from lynkr.stages.route_rules import Tier
from lynkr.storage.responses import ResponseStore, StoreQuota


def build_state(settings: Settings, pipeline: Pipeline | None = None,
                providers: dict[str, HttpProvider] | None = None) -> AppState:
    pipeline = apply_env(pipeline or compile_file(resolve(settings.pipeline)), settings.environ)
    pipeline = apply_routing(pipeline, settings.routing)
    providers = providers if providers is not None else build_providers(settings)
    infos = {name: attrs.evolve(info, context_window=context_window(providers[name].settings))
             for name, info in provider_infos(providers).items()}
    ports = Ports(providers=infos, default_provider=settings.model_provider,
                  cache=response_cache(pipeline), sessions=MemorySessionStore(),
                  output_limit=OutputLimits())
    resilience = settings.resilience
    breakers = {name: CircuitBreaker(name, resilience.breaker_failure_threshold,
                                     resilience.breaker_success_threshold,
                                     resilience.breaker_timeout_s) for name in providers}
    metrics = Metrics(prices=price_table(settings))
    limits = settings.limits
    return AppState(settings, pipeline, ports, providers, embeddings=build_embedder(settings),
                    metrics=metrics,
                    responses=ResponseStore(settings.db_path, settings.responses_retention_s,
                                            StoreQuota(
                                                owner_bytes=limits.responses_owner_bytes,
                                                total_bytes=limits.responses_total_bytes)),
                    breakers=breakers, recorder=_recorder(settings))


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


def apply_routing(pipeline: Pipeline, routing: RoutingSettings) -> Pipeline:
    """The route stage with the tiers and fallbacks of PREFER_OLLAMA / FALLBACK_PROVIDER, unless
    the pipeline file sets its own."""
    if not (routing.tiers or routing.fallbacks):
        return pipeline
    stages = []
    for bound in pipeline.stages:
        config = bound.config
        if isinstance(config, RouteConfig) and not config.tiers and not config.fallbacks:
            tiers = tuple(Tier(t.provider, t.max_tools) for t in routing.tiers)
            bound = attrs.evolve(bound, config=attrs.evolve(
                config, tiers=tiers, fallbacks=routing.fallbacks))
        stages.append(bound)
    return attrs.evolve(pipeline, stages=tuple(stages))


def response_cache(pipeline: Pipeline) -> MemoryCache | None:
    """The in-process answer cache the pipeline's enabled ``prompt_cache`` stage asks for."""
    for stage in pipeline.stages:
        config = stage.config
        if isinstance(config, PromptCacheConfig) and config.enabled:
            return MemoryCache(config.max_entries, config.ttl_ms / 1000)
    return None


def _dialects(state: AppState) -> list[tuple[str, DialectEndpoint]]:
    """The OpenAI-dialect endpoints (also dispatched before Starlette, as hot paths)."""
    assert state.responses is not None
    return [("/v1/chat/completions", DialectEndpoint(state, ChatBinding())),
            ("/v1/responses", DialectEndpoint(state, ResponsesBinding(state.responses)))]


def _routes(state: AppState) -> list[Route]:
    return [
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


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """404/405 in the dialect the path suggests, with a request id."""
    assert isinstance(exc, HTTPException)
    rid = request_id(request.scope)
    openai = request.url.path.startswith(("/v1/chat", "/v1/responses", "/v1/embeddings")) \
        or "anthropic-version" not in request.headers
    if exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = f"no endpoint at {request.method} {request.url.path}"
    if openai:
        body: Any = {"error": {"message": message, "type": "invalid_request_error",
                               "param": None, "code": None}}
    else:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        body = {"type": "error", "error": {"type": kind, "message": message},
                "request_id": rid}
    headers = {"request-id": rid, "x-request-id": rid, **(exc.headers or {})}
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


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


def build_app(state: AppState) -> LoadShedder:
    """The app behind the load shedder (health probes and metrics pass it untouched)."""
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limits = state.ports.output_limit
        if isinstance(limits, OutputLimits):
            limits.learn(await fetch_output_limits(state.providers))
        try:
            yield
        finally:
            for provider in state.providers.values():
                await provider.client.aclose()
            if state.embeddings is not None:
                await state.embeddings.aclose()
            if state.responses is not None:
                state.responses.close()

    app = Starlette(routes=_routes(state), exception_handlers={404: _http_error,
                                                               405: _http_error},
                    lifespan=lifespan)
    app.state.lynkr = state
    app.router.redirect_slashes = False  # never a redirect to the Host the client sent
    hot = {("POST", path): endpoint for path, endpoint in _dialects(state)}
    hot[("POST", "/v1/messages")] = MessagesEndpoint(state)
    resilience = state.settings.resilience
    shedder = LoadShedder(FastPaths(app, hot), max_active=resilience.shed_active_requests,
                          memory_fraction=resilience.shed_memory_fraction,
                          on_shed=state.metrics.shed_one, closing=lambda: not state.ready)
    state.shedding = shedder.memory_refusal
    return shedder
