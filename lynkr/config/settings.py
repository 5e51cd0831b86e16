"""Validated settings. Every bad value is a one-line error that names its variable.

Names and defaults follow the original Lynkr (``MODEL_PROVIDER``, ``OLLAMA_ENDPOINT``, ...), so a
user can switch over with the same environment. With nothing set the provider is a local Ollama.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

from lynkr.config.access import AccessSettings, access_settings
from lynkr.config.bedrock import BedrockSettings, bedrock_settings
from lynkr.config.dotenv import read_dotenv
from lynkr.config.embeddings import EmbeddingsSettings, embeddings_settings
from lynkr.config.errors import SettingsError
from lynkr.config.limits import Limits, limits_settings
from lynkr.config.providers import PROVIDERS, ProviderSettings, provider_settings
from lynkr.config.resilience import ResilienceSettings, resilience_settings
from lynkr.config.routing import RoutingSettings, flag, routing_settings
from lynkr.config.shared import SharedSettings, shared_settings


@attrs.frozen
class Settings:
    host: str = "127.0.0.1"
    port: int = 8081
    workers: int = 1
    log_level: str = "info"
    model_provider: str = "ollama"
    provider_source: str = "MODEL_PROVIDER"  # why this provider: see chosen_provider
    providers: Mapping[str, ProviderSettings] = attrs.field(factory=dict)
    pipeline: str | None = None
    # LYNKR_PIPELINE_WATCH: reload the pipeline file when it changes (SIGHUP always does),
    # polled every LYNKR_PIPELINE_WATCH_INTERVAL_MS
    pipeline_watch: bool = False
    pipeline_watch_interval_s: float = 1.0
    max_body_bytes: int = 32 * 1024 * 1024
    connect_timeout_s: float = 10.0
    keepalive_expiry_s: float = 30.0
    max_connections: int = 1000  # UPSTREAM_MAX_CONNECTIONS, default: the shedding threshold
    upstream_transport: str = "lean"  # UPSTREAM_TRANSPORT: "lean" (h1 on trio) or "httpx"
    graceful_timeout_s: float = 30.0
    drain_s: float = 1.0  # after SIGTERM: readiness 503, still accepting, before closing
    db_path: str = "data/lynkr.db"
    responses_retention_s: float = 86_400.0
    embeddings: EmbeddingsSettings = attrs.field(factory=EmbeddingsSettings)
    resilience: ResilienceSettings = attrs.field(factory=ResilienceSettings)
    limits: Limits = attrs.field(factory=Limits)  # bounds on reads, sizes and the store
    routing: RoutingSettings = attrs.field(factory=RoutingSettings)
    metrics_enabled: bool = True  # METRICS_ENABLED: false leaves /metrics/* out
    health_check_enabled: bool = True  # HEALTH_CHECK_ENABLED: false leaves /health* out
    prices_path: str | None = None  # LYNKR_PRICES, else config/prices.yaml when present
    bedrock: BedrockSettings = attrs.field(factory=BedrockSettings)  # region, limiter, API
    access: AccessSettings = attrs.field(factory=AccessSettings)  # inbound keys (LYNKR_AUTH)
    shared: SharedSettings = attrs.field(factory=SharedSettings)  # REDIS_URL: state in Redis
    # the whole environment (.env overlaid by the process), for the variables that set pipeline
    # stage parameters (lynkr.pipeline.env_overlay); never printed
    environ: Mapping[str, str] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def provider(self) -> ProviderSettings:
        return self.providers[self.model_provider]


class Env:
    """Typed reads of one environment mapping; each failure names the variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name, "").strip()
        return value or default

    def int(self, name: builtins.str, default: int, minimum: int = 0) -> int:
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, got {value}")
        return value

    def number(self, name: builtins.str, default: float, low: float, high: float, *,
               above_low: bool = False) -> float:
        """A float within [low, high] (``above_low``: low itself excluded)."""
        raw = self.str(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if not (low < value if above_low else low <= value) or value > high:
            bound = "above" if above_low else "between"
            raise SettingsError(f"{name} must be {bound} {low:g} and {high:g}, got {raw!r}")
        return value

    def url(self, name: builtins.str, default: builtins.str) -> builtins.str:
        value = self.str(name, default) or default
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    def choice(self, name: builtins.str, default: builtins.str,
               allowed: tuple[builtins.str, ...]) -> builtins.str:
        value = (self.str(name, default) or default).lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        return value


# MODEL_PROVIDER unset: the first of these whose credentials are all set (Databricks first, the
# original Lynkr's default provider), else the local Ollama
CREDENTIALS = (
    ("databricks", ("DATABRICKS_API_BASE", "DATABRICKS_API_KEY")),
    ("azure-anthropic", ("AZURE_ANTHROPIC_ENDPOINT", "AZURE_ANTHROPIC_API_KEY")),
    ("azure-openai", ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY")),
    ("openai", ("OPENAI_API_KEY",)),
    ("openrouter", ("OPENROUTER_API_KEY",)),
    ("anthropic", ("ANTHROPIC_UPSTREAM_API_KEY",)),
    ("bedrock", ("AWS_BEDROCK_API_KEY",)),
)


def chosen_provider(env: Env) -> tuple[str, str]:
    """The provider, and why: ``MODEL_PROVIDER``, else the first whose credentials are set,
    else the local Ollama."""
    named = env.str("MODEL_PROVIDER")
    if named:
        return named.lower(), "MODEL_PROVIDER"
    for provider, variables in CREDENTIALS:
        if all(env.str(v) for v in variables):
            return provider, f"MODEL_PROVIDER is not set; {' and '.join(variables)} " \
                             f"{'are' if len(variables) > 1 else 'is'} set"
    return "ollama", "MODEL_PROVIDER is not set and no provider's credentials are set: the " \
                     "local Ollama"


def raw_environment(environ: Mapping[str, str] | None = None, env_file: str | None = None
                    ) -> dict[str, str]:
    """``.env`` (or ``LYNKR_ENV_FILE``) overlaid by the process environment."""
    environ = os.environ if environ is None else environ
    path = Path(env_file or environ.get("LYNKR_ENV_FILE") or ".env")
    return {**read_dotenv(path), **environ}


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | None = None
                  ) -> Settings:
    """Settings from ``.env`` (or ``LYNKR_ENV_FILE``) overlaid by the process environment."""
    env = Env(raw_environment(environ, env_file))
    provider, source = chosen_provider(env)
    if provider not in PROVIDERS:
        raise SettingsError(f"MODEL_PROVIDER must be one of {', '.join(PROVIDERS)}, "
                            f"got {provider!r}")
    routing = routing_settings(env, provider, PROVIDERS)
    routed = set(routing.providers()) | {provider}
    providers = {name: provider_settings(name, env, required=name in routed)
                 for name in PROVIDERS}
    resilience = resilience_settings(env)
    model_default = env.str("MODEL_DEFAULT")
    if model_default:
        providers[provider] = attrs.evolve(providers[provider], model=model_default)
    return Settings(
        host=env.str("LYNKR_HOST", "127.0.0.1") or "127.0.0.1",
        port=env.int("PORT", 8081, minimum=1),
        workers=env.int("LYNKR_WORKERS", 1, minimum=1),
        log_level=env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")),
        model_provider=provider,
        provider_source=source,
        providers=providers,
        pipeline=env.str("LYNKR_PIPELINE"),
        pipeline_watch=flag(env, "LYNKR_PIPELINE_WATCH", False),
        pipeline_watch_interval_s=env.int("LYNKR_PIPELINE_WATCH_INTERVAL_MS", 1000,
                                          minimum=10) / 1000,
        max_body_bytes=env.int("MAX_REQUEST_BODY_BYTES", 32 * 1024 * 1024, minimum=1024),
        connect_timeout_s=env.int("UPSTREAM_CONNECT_TIMEOUT_MS", 10_000, minimum=1) / 1000,
        keepalive_expiry_s=env.int("UPSTREAM_KEEPALIVE_MS", 30_000, minimum=0) / 1000,
        # the pool follows the concurrency limit: an admitted request never waits for a slot
        max_connections=env.int("UPSTREAM_MAX_CONNECTIONS", resilience.shed_active_requests,
                                minimum=1),
        upstream_transport=env.choice("UPSTREAM_TRANSPORT", "lean", ("lean", "httpx")),
        graceful_timeout_s=env.int("GRACEFUL_SHUTDOWN_TIMEOUT", 30_000, minimum=0) / 1000,
        drain_s=env.int("SHUTDOWN_DRAIN_DELAY_MS", 1000, minimum=0) / 1000,
        db_path=env.str("LYNKR_DB_PATH") or env.str("SESSION_DB_PATH") or "data/lynkr.db",
        responses_retention_s=env.int("RESPONSES_RETENTION_MS", 86_400_000, minimum=0) / 1000,
        embeddings=embeddings_settings(env, provider, providers),
        resilience=resilience,
        limits=limits_settings(env),
        routing=routing,
        prices_path=env.str("LYNKR_PRICES"),
        metrics_enabled=flag(env, "METRICS_ENABLED", True),
        health_check_enabled=flag(env, "HEALTH_CHECK_ENABLED", True),
        bedrock=bedrock_settings(env, required=provider == "bedrock"),
        access=access_settings(env),
        shared=shared_settings(env),
        environ=env.values,
    )
