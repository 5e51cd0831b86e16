"""``lynkr check``: the effective configuration (secrets masked) and a probe of the provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import httpx

from lynkr.config.mcp import mcp_settings
from lynkr.config.memory import memory_settings
from lynkr.config.providers import ProviderSettings
from lynkr.config.secrets import mask_url
from lynkr.config.settings import Env, Settings
from lynkr.config.tools import tool_loop_settings
from lynkr.config.vendors import vendor
from lynkr.config.web import web_settings
from lynkr.config.workspace import workspace_settings
from lynkr.providers.profiles import auth_headers

SECRET_FIELDS = ("api_key",)


def mask(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "…" + value[-2:] if len(value) > 8 else "***"


def effective(settings: Settings) -> dict[str, Any]:
    out = attrs.asdict(settings, recurse=False)
    out.pop("providers")
    bedrock = attrs.asdict(out.pop("bedrock"))  # region, concurrency, API (key masked)
    if settings.model_provider == "bedrock":
        out["bedrock"] = {**bedrock, **{k: mask(bedrock[k]) for k in (
            "api_key", "access_key_id", "secret_access_key", "session_token")},
            "endpoint_url": bedrock["endpoint_url"] and mask_url(bedrock["endpoint_url"])}
    out.pop("environ", None)
    provider = attrs.asdict(settings.provider)
    for key in SECRET_FIELDS:
        provider[key] = mask(provider.get(key))
    provider["endpoint"] = mask_url(provider["endpoint"])
    out["provider"] = provider
    embeddings = attrs.asdict(settings.embeddings)
    for key in SECRET_FIELDS:
        embeddings[key] = mask(embeddings.get(key))
    embeddings["endpoint"] = mask_url(embeddings["endpoint"])
    out["embeddings"] = embeddings
    out["resilience"] = attrs.asdict(settings.resilience)  # no secrets
    out["limits"] = attrs.asdict(settings.limits)
    out["routing"] = attrs.asdict(settings.routing)
    out["access"] = attrs.asdict(settings.access)  # LYNKR_AUTH and the key file; no keys
    shared = settings.shared  # where limits, budgets, breakers, cache and sessions are shared
    backend = shared.backend if shared.backend == "redis" or settings.workers == 1 else "sqlite"
    out["shared"] = {"backend": backend, "redis_url": shared.redis_url and mask_url(
        shared.redis_url), "timeout_s": shared.timeout_s, "prefix": shared.prefix}
    out["memory"] = attrs.asdict(memory_settings(Env(settings.environ)))  # no secrets
    out["mcp"] = attrs.asdict(mcp_settings(Env(settings.environ)))  # paths and isolation
    out["web"] = _web(settings)
    out["tool_loop"] = attrs.asdict(tool_loop_settings(Env(settings.environ)))
    # the workspace tools' root and git policies (a bad WORKSPACE_ROOT is a one-line error)
    out["workspace"] = attrs.asdict(workspace_settings(Env(settings.environ)))
    return out


def _web(settings: Settings) -> dict[str, Any]:
    """The web tools' settings, and which tools they offer."""
    web = web_settings(Env(settings.environ))
    shown = attrs.asdict(web)
    shown["search_endpoint"] = web.search_endpoint and mask_url(web.search_endpoint)
    shown["allowed_networks"] = [str(n) for n in web.allowed_networks]
    shown["tools"] = [name for name, on in (("web_search", web.search_enabled),
                                            ("web_fetch", web.fetch_enabled)) if on]
    return shown


def probe_url(provider: ProviderSettings) -> str:
    """A cheap GET that says whether the provider answers and which models it has (the
    vendor's ``probe`` fact says which)."""
    endpoint = provider.endpoint
    probe = vendor(provider.name).probe
    if probe == "ollama_tags":
        return endpoint.removesuffix("/api/chat") + "/api/tags"
    if endpoint.endswith("/v1/messages"):  # Anthropic, Azure Anthropic, Databricks' route
        return endpoint.removesuffix("/messages") + "/models"
    if probe == "databricks_endpoint":  # the serving endpoint's state
        base, _, rest = endpoint.partition("/serving-endpoints/")
        return f"{base}/api/2.0/serving-endpoints/{rest.split('/')[0]}"
    if probe == "azure_models" and "/openai/deployments/" in endpoint:
        parts = urlsplit(endpoint)
        base = parts.path.split("/openai/deployments/")[0]
        return urlunsplit((parts.scheme, parts.netloc, base + "/openai/models", parts.query, ""))
    return endpoint.removesuffix("/chat/completions") + "/models"


def _probe_headers(provider: ProviderSettings) -> dict[str, str]:
    return {k: v for k, v in auth_headers(provider).items()
            if k not in ("content-type", "accept-encoding")}


def probe(provider: ProviderSettings, timeout: float = 5.0) -> tuple[bool, str]:
    url = probe_url(provider)
    where = f"{provider.name} at {mask_url(url)}"
    try:
        response = httpx.get(url, headers=_probe_headers(provider), timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"{where} is not answering: {_failure(exc)}"
    return judge(provider, where, response)


async def probe_async(provider: ProviderSettings, client: httpx.AsyncClient,
                      timeout: float = 2.0) -> tuple[bool, str]:
    """``probe`` on an async client (``/health/ready?deep=true``), with a short timeout; the
    result never names the URL (the health endpoint is unauthenticated)."""
    url = probe_url(provider)
    try:
        response = await client.get(url, headers=_probe_headers(provider), timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"{provider.name} is not answering ({type(exc).__name__})"
    return judge(provider, provider.name, response)


def _failure(exc: Exception) -> str:
    return mask_url(str(exc)) or type(exc).__name__


def judge(provider: ProviderSettings, where: str, response: httpx.Response) -> tuple[bool, str]:
    """What a probe's answer says about the provider (``where``: its name, maybe its URL)."""
    facts = vendor(provider.name)
    if facts.probe == "reachable":  # an unsigned GET: any answer below 500 means reachable
        ok = response.status_code < 500
        return ok, f"{where} {'is reachable' if ok else 'answered'} ({response.status_code})"
    if response.status_code >= 400:
        return False, f"{where} answered {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        return True, f"{where} answered (not JSON)"
    if not isinstance(data, dict):
        return True, f"{where} answered"
    names = [m.get("name") or m.get("id") for m in data.get("models") or data.get("data") or []
             if isinstance(m, dict)]
    unnamed = provider.model in ("", "default") or not facts.lists_models
    if names and provider.model not in names and not unnamed:
        return True, (f"{provider.name} answers, but model {provider.model!r} is not among "
                      f"its {len(names)} models ({', '.join(map(str, names[:8]))})")
    return True, f"{where} answers; model {provider.model!r}"
