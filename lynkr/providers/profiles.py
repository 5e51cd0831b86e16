"""Provider profiles: what differs between vendors of one wire family, declared as data.

A profile says how to build the upstream body, which parser reads the answer and which headers
authenticate. Adding azure-openai or databricks later is another entry here, not a new adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

from lynkr.config.providers import ProviderSettings
from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.request import ChatOptions, build_chat_request
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.model.events import Event
from lynkr.model.request import Request
from lynkr.ports import Family


class StreamParser(Protocol):
    done: bool

    def feed(self, data: bytes) -> list[Event]: ...

    def close(self) -> list[Event]: ...


@attrs.frozen
class Profile:
    name: str
    family: Family
    build: Callable[[Request], dict[str, Any]]
    parser: Callable[[str, str, int, frozenset[str]], StreamParser]
    headers: dict[str, str]


REASONING_MODELS = ("o1", "o3", "o4", "gpt-5")


def _openai_options(settings: ProviderSettings) -> Callable[[Request], dict[str, Any]]:
    local = settings.name in ("llamacpp", "lmstudio")
    plain = ChatOptions(mid_system="as_user" if local else "in_place")
    reasoning = ChatOptions(system_role="developer", max_tokens_field="max_completion_tokens")

    def build(request: Request) -> dict[str, Any]:
        if settings.name == "openai" and request.model.startswith(REASONING_MODELS):
            return build_chat_request(request, reasoning)
        return build_chat_request(request, plain)

    return build


def _headers(settings: ProviderSettings) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept-encoding": "identity"}
    if settings.api_key:
        headers["authorization"] = f"Bearer {settings.api_key}"
    if settings.organization:
        headers["openai-organization"] = settings.organization
    if settings.name == "openrouter":
        headers["http-referer"] = "https://github.com/lynkr"
        headers["x-title"] = "Lynkr"
    return headers


def make_profile(settings: ProviderSettings) -> Profile:
    if settings.name == "ollama":
        options = OllamaOptions(num_ctx=settings.num_ctx)
        return Profile(
            "ollama", "ollama",
            lambda request: build_ollama_request(request, options),
            OllamaStreamParser,
            _headers(settings),
        )
    return Profile(settings.name, "openai", _openai_options(settings), ChatStreamParser,
                   _headers(settings))
