"""Provider adapters: profiles (pure) and transports (the only network I/O)."""

from __future__ import annotations

from lynkr.config.settings import Settings
from lynkr.ports import ProviderInfo
from lynkr.providers.http import HttpProvider, make_client
from lynkr.providers.profiles import make_profile


def build_providers(settings: Settings) -> dict[str, HttpProvider]:
    """The configured provider and every one routing may use, each with its own client."""
    names = dict.fromkeys((settings.model_provider, *settings.routing.providers()))
    return {name: _build(settings, name) for name in names}


def _build(settings: Settings, name: str) -> HttpProvider:
    chosen = settings.providers[name]
    if name == "bedrock":  # boto3, not httpx: same interface (body/open/settings)
        from lynkr.providers.bedrock import BedrockProvider, make_bedrock_client

        client = make_bedrock_client(settings.bedrock, settings.connect_timeout_s)
        return BedrockProvider(settings.bedrock, client, chosen)  # type: ignore[return-value]
    return HttpProvider(chosen, make_client(settings, chosen), limits=settings.limits)


def provider_infos(providers: dict[str, HttpProvider]) -> dict[str, ProviderInfo]:
    return {
        name: ProviderInfo(name, p.profile.family, p.settings.model, p.settings.endpoint)
        for name, p in providers.items()
    }


__all__ = ["HttpProvider", "build_providers", "make_profile", "provider_infos"]
