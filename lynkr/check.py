"""``lynkr check``: the effective configuration (secrets masked) and a probe of the provider."""

from __future__ import annotations

from typing import Any

import attrs
import httpx

from lynkr.config.providers import ProviderSettings
from lynkr.config.settings import Settings

SECRET_FIELDS = ("api_key",)


def mask(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "…" + value[-2:] if len(value) > 8 else "***"


def effective(settings: Settings) -> dict[str, Any]:
    out = attrs.asdict(settings, recurse=False)
    out.pop("providers")
    provider = attrs.asdict(settings.provider)
    for key in SECRET_FIELDS:
        provider[key] = mask(provider.get(key))
    out["provider"] = provider
    embeddings = attrs.asdict(settings.embeddings)
    for key in SECRET_FIELDS:
        embeddings[key] = mask(embeddings.get(key))
    out["embeddings"] = embeddings
    return out


def probe_url(provider: ProviderSettings) -> str:
    """A cheap GET that says whether the provider answers and which models it has."""
    if provider.name == "ollama":
        return provider.endpoint.removesuffix("/api/chat") + "/api/tags"
    return provider.endpoint.removesuffix("/chat/completions") + "/models"


def probe(provider: ProviderSettings, timeout: float = 5.0) -> tuple[bool, str]:
    headers = {"authorization": f"Bearer {provider.api_key}"} if provider.api_key else {}
    url = probe_url(provider)
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"{provider.name} at {url} is not answering: {exc or type(exc).__name__}"
    if response.status_code >= 400:
        return False, f"{provider.name} at {url} answered {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        return True, f"{provider.name} at {url} answered (not JSON)"
    names = [m.get("name") or m.get("id") for m in data.get("models") or data.get("data") or []]
    if names and provider.model not in names and provider.model != "default":
        return True, (f"{provider.name} answers, but model {provider.model!r} is not among "
                      f"its {len(names)} models ({', '.join(map(str, names[:8]))})")
    return True, f"{provider.name} at {url} answers; model {provider.model!r}"
