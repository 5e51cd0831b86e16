"""Provider adapters: profiles (pure) and transports (the only network I/O)."""

from __future__ import annotations

from lynkr.config.settings import Settings
from lynkr.ports import ProviderInfo
from lynkr.providers.http import HttpProvider, make_client
from lynkr.providers.profiles import make_profile


def build_providers(settings: Settings) -> dict[str, HttpProvider]:
    """The configured provider(s), each with its own pooled client."""
    chosen = settings.provider
    return {chosen.name: HttpProvider(chosen, make_client(settings, chosen))}


def provider_infos(providers: dict[str, HttpProvider]) -> dict[str, ProviderInfo]:
    return {
        name: ProviderInfo(name, p.profile.family, p.settings.model, p.settings.endpoint)
        for name, p in providers.items()
    }


__all__ = ["HttpProvider", "build_providers", "make_profile", "provider_infos"]
