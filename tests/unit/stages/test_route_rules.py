"""Hybrid routing decisions, table-driven, and the property that every request gets a route."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lynkr.model import ImageBlock, Message, Request, TextBlock, Tool
from lynkr.ports import ProviderInfo
from lynkr.stages.route_rules import Tier, decide

PROVIDERS = {
    "ollama": ProviderInfo("ollama", "ollama", "qwen", "http://o", context_window=32_000),
    "openrouter": ProviderInfo("openrouter", "openai", "mini", "http://r", 128_000),
    "openai": ProviderInfo("openai", "openai", "gpt", "http://a", 200_000),
}
TIERS = (Tier("ollama", max_tools=3, thinking=False), Tier("openrouter", max_tools=15),
         Tier("openai"))


def request(tools: int = 0, model: str = "claude-opus-5-5", thinking: bool = False,
            image: bool = False) -> Request:
    content: tuple = (TextBlock("hi"),) + ((ImageBlock({"type": "url", "url": "u"}),)
                                           if image else ())
    return Request(model, (Message("user", content),), 100,
                   tools=tuple(Tool(f"t{i}", "", {"type": "object"}) for i in range(tools)),
                   thinking={"type": "adaptive"} if thinking else None)


def route(req: Request, tokens: int = 1000, fallbacks: tuple[str, ...] = ("openai",)):
    return decide(req, TIERS, fallbacks, PROVIDERS, "openai", lambda r: tokens)


def test_tool_count_picks_the_tier_and_the_rest_are_fallbacks() -> None:
    assert route(request(2)).provider == "ollama"
    assert route(request(2)).fallbacks == ("openrouter", "openai")
    moderate = route(request(12))
    assert moderate.provider == "openrouter"
    assert "not ollama: 12 tools > 3" in moderate.reason
    assert route(request(20)).provider == "openai"


def test_context_size_thinking_and_side_requests() -> None:
    assert route(request(1), tokens=40_000).provider == "openrouter"  # over 90% of 32K
    assert route(request(1, thinking=True)).provider == "openrouter"
    side = route(request(0, model="claude-haiku-4-5", thinking=True))
    assert side.provider == "ollama" and "side request" in side.reason


def test_no_tier_fits_then_the_last_takes_it() -> None:
    huge = route(request(30), tokens=500_000)
    assert huge.provider == "openai" and "no tier fits" in huge.reason


def test_unconfigured_tiers_are_skipped_and_without_tiers_the_default_answers() -> None:
    only = {"openai": PROVIDERS["openai"]}
    got = decide(request(1), TIERS, ("ollama",), only, "openai", lambda r: 10)
    assert (got.provider, got.fallbacks) == ("openai", ())
    plain = decide(request(1), (), ("ollama", "openai"), PROVIDERS, "openai", lambda r: 10)
    assert (plain.provider, plain.reason, plain.fallbacks) == ("openai", "configured provider",
                                                                ("ollama",))


@given(tools=st.integers(0, 60), tokens=st.integers(0, 10**7), thinking=st.booleans(),
       image=st.booleans(), haiku=st.booleans())
def test_every_request_gets_a_configured_route(tools: int, tokens: int, thinking: bool,
                                               image: bool, haiku: bool) -> None:
    req = request(tools, "claude-haiku" if haiku else "claude-opus", thinking, image)
    got = route(req, tokens)
    assert got.provider in PROVIDERS
    assert got.provider not in got.fallbacks
    assert set(got.fallbacks) <= set(PROVIDERS)
