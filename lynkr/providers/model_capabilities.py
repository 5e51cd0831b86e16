"""Whether an Ollama model can call tools, asked once at start-up (``POST /api/show``) and kept
for the process. A model Ollama does not describe, an older Ollama, or one that does not answer
within the timeout stays unknown, and its requests keep their tools. Never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from lynkr.formats.ollama.show import show_body, supports_tools
from lynkr.ports import Upstream
from lynkr.providers.http import HttpUpstream

log = logging.getLogger("lynkr.providers")


class ToolSupport:
    """The ``tool_support`` port: (provider, model) -> True, False, or None (unknown)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}

    def learn(self, known: Mapping[tuple[str, str], bool]) -> None:
        self._known.update(known)

    def __call__(self, provider: str, model: str) -> bool | None:
        return self._known.get((provider, model))


async def fetch_tool_support(upstreams: Mapping[str, Upstream], timeout: float = 5.0
                             ) -> dict[tuple[str, str], bool]:
    learned: dict[tuple[str, str], bool] = {}
    for provider in upstreams.values():
        if not isinstance(provider, HttpUpstream) or provider.info.family != "ollama":
            continue
        name, model = provider.settings.name, provider.settings.model
        url = provider.settings.endpoint.removesuffix("/api/chat") + "/api/show"
        try:
            response = await provider.client.post(url, json=show_body(model),
                                                   headers=provider.profile.headers,
                                                   timeout=timeout)
            tools = supports_tools(response.json()) if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("capabilities of %s model %s unavailable: %s", name, model, exc)
            continue
        if tools is not None:
            learned[(name, model)] = tools
            if not tools:
                log.warning("%s model %s cannot call tools: requests with tools go to the "
                            "fallback, or lose their tools", name, model)
    return learned
