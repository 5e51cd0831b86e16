"""Provider profiles: how one configured provider's requests are built and its answers read.

A profile is assembled from the provider's settings and its facts in ``config.vendors``: the
body builder and stream parser of its wire family, the fixed headers (auth style, versions,
attribution) and, for Anthropic-dialect backends, the per-request ``anthropic-beta`` header
filtered by what the backend accepts. Nothing here branches on a vendor's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from lynkr.config.providers import ProviderSettings
from lynkr.config.vendors import Vendor, family_of, vendor
from lynkr.formats.anthropic.sse import SseParser
from lynkr.formats.anthropic.upstream import beta_header, build_messages_request
from lynkr.formats.lines import DEFAULT_MAX_LINE_BYTES
from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.request import ChatOptions, build_chat_request
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.formats.reasoning import echo_by_default
from lynkr.model.events import Event
from lynkr.model.request import Request
from lynkr.ports import Family, ParseContext


class StreamParser(Protocol):
    done: bool

    def feed(self, data: bytes) -> list[Event]: ...

    def close(self) -> list[Event]: ...


@attrs.frozen
class Profile:
    name: str
    family: Family
    build: Callable[[Request], dict[str, Any]]
    parser: Callable[[ParseContext], StreamParser]
    headers: Mapping[str, str]
    # headers that depend on the request (anthropic-beta); None: none
    request_headers: Callable[[Request], dict[str, str]] | None = None


def auth_headers(settings: ProviderSettings) -> dict[str, str]:
    """The fixed headers of every request to this provider: auth, versions, attribution."""
    facts = vendor(settings.name)
    headers = {"content-type": "application/json", "accept-encoding": "identity"}
    if settings.api_key:
        if facts.auth == "api-key":
            headers["api-key"] = settings.api_key
        elif facts.auth == "x-api-key":
            headers["x-api-key"] = settings.api_key
        else:
            headers["authorization"] = f"Bearer {settings.api_key}"
    if settings.api_version and facts.auth == "x-api-key":
        headers["anthropic-version"] = settings.api_version
    if settings.organization:
        headers["openai-organization"] = settings.organization
    headers.update(facts.headers)
    return headers


def _openai_build(settings: ProviderSettings, facts: Vendor
                  ) -> Callable[[Request], dict[str, Any]]:
    control = settings.thinking_control
    common: dict[str, Any] = {
        "cache_hint": settings.cache_hint, "cache_slots": settings.cache_slots,
        "echo_reasoning": settings.name if echoes(settings) else None,
        "include_model": facts.names_model, "stream_usage": facts.names_model}
    # OpenAI's reasoning_effort is a 400 on models that do not reason
    plain = ChatOptions(mid_system="as_user" if facts.local else "in_place",
                        thinking_control="" if facts.reasoning_models else control, **common)
    reasoning = ChatOptions(system_role="developer", max_tokens_field="max_completion_tokens",
                            thinking_control=control, **common)

    def build(request: Request) -> dict[str, Any]:
        if facts.reasoning_models and request.model.startswith(facts.reasoning_models):
            return build_chat_request(request, reasoning)
        return build_chat_request(request, plain)

    return build


def _anthropic_profile(settings: ProviderSettings, facts: Vendor, max_line: int) -> Profile:
    allowed = settings.betas if settings.betas is not None else facts.betas
    headers = auth_headers(settings)
    headers.setdefault("anthropic-version", settings.api_version or "2023-06-01")

    def request_headers(request: Request) -> dict[str, str]:
        value = beta_header(request.betas, allowed)
        return {"anthropic-beta": value} if value else {}

    def parser(context: ParseContext) -> SseParser:
        return SseParser(context.message_id, context.model, max_line=max_line)

    return Profile(settings.name, "anthropic", build_messages_request, parser, headers,
                   request_headers)


def make_profile(settings: ProviderSettings, max_line: int = DEFAULT_MAX_LINE_BYTES) -> Profile:
    """``max_line``: the longest upstream line its parser holds (``UPSTREAM_MAX_LINE_BYTES``)."""
    facts = vendor(settings.name)
    family = family_of(settings.name, settings.endpoint)
    if family == "anthropic":
        return _anthropic_profile(settings, facts, max_line)
    if family == "ollama":
        options = OllamaOptions(num_ctx=settings.num_ctx,
                                thinking_control=settings.thinking_control,
                                echo_reasoning="ollama" if echoes(settings) else None)

        def ollama_parser(context: ParseContext) -> OllamaStreamParser:
            return OllamaStreamParser(context.message_id, context.model, context.input_estimate,
                                      context.taken_ids, sign_for="ollama", max_line=max_line)

        return Profile(settings.name, "ollama",
                       lambda request: build_ollama_request(request, options),
                       ollama_parser, auth_headers(settings))

    # the reasoning always travels in the signature; the echo flag decides if it goes back
    def chat_parser(context: ParseContext) -> ChatStreamParser:
        return ChatStreamParser(context.message_id, context.model, context.input_estimate,
                                context.taken_ids, sign_for=settings.name, max_line=max_line)

    return Profile(settings.name, "openai", _openai_build(settings, facts), chat_parser,
                   auth_headers(settings))


def echoes(settings: ProviderSettings) -> bool:
    """``<PROVIDER>_ECHO_REASONING`` when set, else the format's default."""
    if settings.echo_reasoning is not None:
        return settings.echo_reasoning
    return echo_by_default(settings.name, settings.endpoint)
