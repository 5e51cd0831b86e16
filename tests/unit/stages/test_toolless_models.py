"""A model known to have no tool support (Ollama's /api/show without ``tools``): a request with
tools goes to the next provider of its chain, or, with none, loses its tools with a WARNING.
Unknown support (None) changes nothing."""

from __future__ import annotations

import attrs
import pytest

from lynkr.model import Message, Request, TextBlock, Tool
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.capability_filter import CapabilityFilterConfig, capability_filter
from lynkr.stages.exchange import Context, Exchange, Route
from lynkr.stages.route import RouteConfig, route

OLLAMA = ProviderInfo("ollama", "ollama", "llama3", "http://localhost:11434/api/chat")
OPENAI = ProviderInfo("openai", "openai", "gpt-4o", "https://api.openai.com/v1/chat/completions")
READ = Tool("Read", "Read a file", {"type": "object"})
WITH_TOOLS = Request("claude-sonnet-4-5", (Message("user", (TextBlock("hi"),)),), 1024,
                     tools=(READ,))


def ports(support: bool | None) -> Ports:
    return Ports({"ollama": OLLAMA, "openai": OPENAI}, "ollama",
                 tool_support=lambda provider, model: support
                 if (provider, model) == ("ollama", "llama3") else None)


def routed(request: Request, support: bool | None, fallbacks: tuple[str, ...]) -> Route:
    exchange = route(Exchange(request, Context("r1")), RouteConfig(fallbacks=fallbacks),
                     ports(support))
    assert exchange.route is not None
    return exchange.route


def test_a_request_with_tools_goes_past_a_toolless_model_to_the_fallback() -> None:
    chosen = routed(WITH_TOOLS, False, ("openai",))
    assert (chosen.provider, chosen.model, chosen.fallbacks) == ("openai", "gpt-4o", ())
    assert chosen.reason == "ollama/llama3 cannot call tools; configured provider"


@pytest.mark.parametrize(("request_", "support", "fallbacks"), [
    (WITH_TOOLS, None, ("openai",)),  # unknown: as configured
    (WITH_TOOLS, True, ("openai",)),
    (attrs.evolve(WITH_TOOLS, tools=()), False, ("openai",)),  # no tools needed
    (WITH_TOOLS, False, ()),  # nowhere else to go: capability_filter's turn
])
def test_otherwise_the_route_stays(request_: Request, support: bool | None,
                                   fallbacks: tuple[str, ...]) -> None:
    assert routed(request_, support, fallbacks).provider == "ollama"


def filtered(support: bool | None) -> Exchange:
    request = attrs.evolve(WITH_TOOLS, model="llama3")
    before = Exchange(request, Context("r1"), route=Route("ollama", "llama3"))
    return capability_filter(before, CapabilityFilterConfig(), ports(support))


def test_a_toolless_model_with_no_fallback_gets_no_tools_and_a_warning() -> None:
    after = filtered(False)
    assert after.request.tools == ()
    assert "all tools (WARNING: llama3 has no tool use on ollama)" in after.notes[-1].summary


@pytest.mark.parametrize("support", [True, None])
def test_tools_stay_when_supported_or_unknown(support: bool | None) -> None:
    assert filtered(support).request.tools == (READ,)
