"""Provider profiles: what differs between vendors of one wire family, declared as data.

A profile says how to build the upstream body, which parser reads the answer and which headers
authenticate (plus, for Anthropic-dialect backends, the per-request ``anthropic-beta`` header
filtered by the backend's capability table). A new vendor of a known family is an entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import Any, Protocol

import attrs

from lynkr.config.providers import ProviderSettings
from lynkr.formats.anthropic.sse import SseParser
from lynkr.formats.anthropic.upstream import beta_header, build_messages_request
from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.request import ChatOptions, build_chat_request
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.formats.reasoning import echo_by_default
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
    parser: Callable[..., StreamParser]  # (id, model, estimate, taken ids, max_line=)
    headers: dict[str, str]
    # headers that depend on the request (anthropic-beta); None: none
    request_headers: Callable[[Request], dict[str, str]] | None = None


REASONING_MODELS = ("o1", "o3", "o4", "gpt-5")

# anthropic-beta values each Anthropic-dialect backend accepts; None: all (the real API).
# Azure AI Foundry rejects betas it does not know, so it gets the documented ones only.
BETAS: dict[str, Collection[str] | None] = {
    "anthropic": None,
    "azure-anthropic": frozenset((
        "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
        "fine-grained-tool-streaming-2025-05-14", "token-efficient-tools-2025-02-19",
        "context-1m-2025-08-07", "effort-2025-11-24", "structured-outputs-2025-11-13",
        "advanced-tool-use-2025-11-20", "output-128k-2025-02-19", "files-api-2025-04-14",
        "prompt-caching-2024-07-31", "mcp-client-2025-11-20", "code-execution-2025-08-25")),
    "databricks": frozenset(("interleaved-thinking-2025-05-14", "context-1m-2025-08-07",
                             "fine-grained-tool-streaming-2025-05-14")),
}


def _openai_options(settings: ProviderSettings) -> Callable[[Request], dict[str, Any]]:
    local = settings.name in ("llamacpp", "lmstudio")
    databricks = settings.name == "databricks"
    control = settings.thinking_control
    openai_like = settings.name in ("openai", "azure-openai")
    common: dict[str, Any] = {
        "cache_hint": settings.cache_hint, "cache_slots": settings.cache_slots,
        "echo_reasoning": settings.name if echoes(settings) else None,
        "include_model": not databricks, "stream_usage": not databricks}
    # OpenAI's reasoning_effort is a 400 on models that do not reason
    plain = ChatOptions(mid_system="as_user" if local else "in_place",
                        thinking_control="" if openai_like else control, **common)
    reasoning = ChatOptions(system_role="developer", max_tokens_field="max_completion_tokens",
                            thinking_control=control, **common)

    def build(request: Request) -> dict[str, Any]:
        if openai_like and request.model.startswith(REASONING_MODELS):
            return build_chat_request(request, reasoning)
        return build_chat_request(request, plain)

    return build


def auth_headers(settings: ProviderSettings) -> dict[str, str]:
    """The fixed headers of every request to this provider: auth, versions, attribution."""
    headers = {"content-type": "application/json", "accept-encoding": "identity"}
    if settings.api_key:
        if settings.name == "azure-openai":
            headers["api-key"] = settings.api_key
        elif settings.name in ("anthropic", "azure-anthropic"):
            headers["x-api-key"] = settings.api_key
        else:
            headers["authorization"] = f"Bearer {settings.api_key}"
    if settings.api_version and settings.name in ("anthropic", "azure-anthropic"):
        headers["anthropic-version"] = settings.api_version
    if settings.organization:
        headers["openai-organization"] = settings.organization
    if settings.name == "openrouter":
        headers["http-referer"] = "https://github.com/lynkr"
        headers["x-title"] = "Lynkr"
    return headers


def speaks_anthropic(settings: ProviderSettings) -> bool:
    return settings.name in ("anthropic", "azure-anthropic") or (
        settings.name == "databricks" and settings.endpoint.endswith("/v1/messages"))


def _anthropic_profile(settings: ProviderSettings) -> Profile:
    allowed = settings.betas if settings.betas is not None else BETAS.get(settings.name)
    headers = auth_headers(settings)
    headers.setdefault("anthropic-version", settings.api_version or "2023-06-01")

    def request_headers(request: Request) -> dict[str, str]:
        value = beta_header(request.betas, allowed)
        return {"anthropic-beta": value} if value else {}

    return Profile(settings.name, "anthropic", build_messages_request, SseParser, headers,
                   request_headers)


def make_profile(settings: ProviderSettings) -> Profile:
    if settings.name == "ollama":
        options = OllamaOptions(num_ctx=settings.num_ctx,
                                thinking_control=settings.thinking_control,
                                echo_reasoning="ollama" if echoes(settings) else None)
        return Profile(
            "ollama", "ollama",
            lambda request: build_ollama_request(request, options),
            partial(OllamaStreamParser, sign_for="ollama"),
            auth_headers(settings),
        )
    if speaks_anthropic(settings):
        return _anthropic_profile(settings)
    # the reasoning always travels in the signature; the echo flag decides if it goes back
    return Profile(settings.name, "openai", _openai_options(settings),
                   partial(ChatStreamParser, sign_for=settings.name), auth_headers(settings))


def echoes(settings: ProviderSettings) -> bool:
    """``<PROVIDER>_ECHO_REASONING`` when set, else the format's default."""
    if settings.echo_reasoning is not None:
        return settings.echo_reasoning
    return echo_by_default(settings.name, settings.endpoint)
