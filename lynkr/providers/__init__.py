"""Provider adapters: profiles (pure) and transports (the only network I/O)."""

from __future__ import annotations

from lynkr.config.settings import Settings
from lynkr.ports import ProviderInfo
from lynkr.providers.http import HttpProvider, make_client
from lynkr.providers.profiles import make_profile


def build_providers(settings: Settings) -> dict[str, HttpProvider]:
    """The configured provider(s), each with its own pooled client."""
    chosen = settings.provider
    if chosen.name == "bedrock":  # boto3, not httpx: same interface (body/open/settings)
        from lynkr.providers.bedrock import BedrockProvider, make_bedrock_client

        client = make_bedrock_client(settings.bedrock, settings.connect_timeout_s)
        return {"bedrock": BedrockProvider(settings.bedrock, client,  # type: ignore[dict-item]
                                           chosen)}
    return {chosen.name: HttpProvider(chosen, make_client(settings, chosen))}


def provider_infos(providers: dict[str, HttpProvider]) -> dict[str, ProviderInfo]:
    return {
        name: ProviderInfo(name, p.profile.family, p.settings.model, p.settings.endpoint)
        for name, p in providers.items()
    }


__all__ = ["HttpProvider", "build_providers", "make_profile", "provider_infos"]
