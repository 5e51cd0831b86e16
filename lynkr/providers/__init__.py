"""Provider adapters: profiles (pure) and transports (the only network I/O), each configured
provider an ``Upstream`` (``lynkr.ports``)."""

from __future__ import annotations

from lynkr.config.context_windows import context_window
from lynkr.config.settings import Settings
from lynkr.config.vendors import vendor
from lynkr.ports import ProviderInfo, Upstream
from lynkr.providers.http import HttpUpstream, http_client
from lynkr.providers.profiles import make_profile


def build_upstreams(settings: Settings) -> dict[str, Upstream]:
    """The configured provider and every one routing may use, each with its own client."""
    names = dict.fromkeys((settings.model_provider, *settings.routing.providers()))
    return {name: build_upstream(settings, name) for name in names}


def build_upstream(settings: Settings, name: str) -> Upstream:
    chosen = settings.providers[name]
    window = context_window(chosen)
    if vendor(name).family == "bedrock":  # boto3 is optional: imported only when configured
        from lynkr.providers.bedrock import BedrockUpstream, make_bedrock_client

        client = make_bedrock_client(settings.bedrock, settings.connect_timeout_s)
        return BedrockUpstream(settings.bedrock, client, chosen, window)
    return HttpUpstream(chosen, http_client(settings, chosen), window, settings.limits)


def provider_infos(upstreams: dict[str, Upstream]) -> dict[str, ProviderInfo]:
    return {name: upstream.info for name, upstream in upstreams.items()}


__all__ = ["HttpUpstream", "build_upstream", "build_upstreams", "make_profile",
           "provider_infos"]
