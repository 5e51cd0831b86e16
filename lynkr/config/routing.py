"""Hybrid routing and fallback settings, under the original's variable names.

``PREFER_OLLAMA=true`` routes simple requests to Ollama (at most ``OLLAMA_MAX_TOOLS_FOR_ROUTING``
tools), moderate ones to OpenRouter when it is configured (at most
``OPENROUTER_MAX_TOOLS_FOR_ROUTING``), the rest to ``MODEL_PROVIDER``. ``FALLBACK_PROVIDER`` (with
``FALLBACK_ENABLED``, default true) is tried when the routed provider fails before answering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@attrs.frozen
class TierSettings:
    provider: str
    max_tools: int | None = None


@attrs.frozen
class RoutingSettings:
    tiers: tuple[TierSettings, ...] = ()
    fallbacks: tuple[str, ...] = ()

    def providers(self) -> tuple[str, ...]:
        """Every provider routing may send a request to."""
        names = [t.provider for t in self.tiers] + list(self.fallbacks)
        return tuple(dict.fromkeys(names))


def flag(env: Env, name: str, default: bool) -> bool:
    raw = (env.str(name) or "").lower()
    if not raw:
        return default
    if raw not in TRUE + FALSE:
        raise SettingsError(f"{name} must be true or false, got {raw!r}")
    return raw in TRUE


def routing_settings(env: Env, default: str, known: tuple[str, ...]) -> RoutingSettings:
    tiers: list[TierSettings] = []
    if flag(env, "PREFER_OLLAMA", False):
        tiers.append(TierSettings("ollama", env.int("OLLAMA_MAX_TOOLS_FOR_ROUTING", 3)))
        if env.str("OPENROUTER_API_KEY") and default != "openrouter":
            tiers.append(TierSettings("openrouter",
                                      env.int("OPENROUTER_MAX_TOOLS_FOR_ROUTING", 15)))
        if default != "ollama":
            tiers.append(TierSettings(default))
    fallbacks: tuple[str, ...] = ()
    fallback = (env.str("FALLBACK_PROVIDER") or "").lower()
    if fallback and flag(env, "FALLBACK_ENABLED", True):
        if fallback not in known:
            raise SettingsError(f"FALLBACK_PROVIDER must be one of {', '.join(known)}, "
                                f"got {fallback!r}")
        fallbacks = (fallback,)
    return RoutingSettings(tuple(tiers), fallbacks)
