"""map_model: client model patterns, the provider's model, and max_tokens clamped, never raised."""

from __future__ import annotations

import attrs
import pytest

from lynkr.model import Message, Request, TextBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note, Route
from lynkr.stages.map_model import MapModelConfig, map_model

PORTS = Ports(
    {
        "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://o/api/chat"),
        "openai": ProviderInfo("openai", "openai", "gpt-4o", "https://o/v1/chat/completions"),
        "mine": ProviderInfo("mine", "openai", "local", "http://m/v1/chat/completions"),
    },
    "ollama",
)
PATTERNS = {
    "claude-*haiku*": "qwen2.5-coder:1.5b",
    "claude-opus-*": "qwen2.5-coder:32b",
    "claude-*": "qwen2.5-coder:14b",
}


def exchange(client_model: str, max_tokens: int, provider: str = "ollama") -> Exchange:
    req = Request(client_model, (Message("user", (TextBlock("hi"),)),), max_tokens)
    upstream = PORTS.providers[provider].model
    return Exchange(
        req,
        Context("r1", client_model=client_model),
        route=Route(provider, upstream, "configured provider"),
    )


@pytest.mark.parametrize(
    ("client", "provider", "models", "expected"),
    [
        pytest.param("claude-sonnet-4-5", "ollama", {}, "qwen2.5-coder:7b", id="provider-model"),
        pytest.param("claude-sonnet-4-5", "openai", {}, "gpt-4o", id="provider-model-openai"),
        pytest.param(
            "claude-3-5-haiku-20241022",
            "ollama",
            PATTERNS,
            "qwen2.5-coder:1.5b",
            id="haiku-pattern",
        ),
        pytest.param("claude-opus-4-1", "ollama", PATTERNS, "qwen2.5-coder:32b", id="opus-pattern"),
        pytest.param(
            "claude-sonnet-4-5",
            "ollama",
            PATTERNS,
            "qwen2.5-coder:14b",
            id="first-matching-pattern-wins",
        ),
        pytest.param(
            "gpt-4o-mini", "ollama", PATTERNS, "qwen2.5-coder:7b", id="no-pattern-matches"
        ),
        pytest.param(
            "CLAUDE-3-HAIKU",
            "ollama",
            PATTERNS,
            "qwen2.5-coder:7b",
            id="patterns-are-case-sensitive",
        ),
        pytest.param(
            "claude-x", "ollama", {"claude-?": "one-char"}, "one-char", id="question-mark"
        ),
    ],
)
def test_model_mapping(client: str, provider: str, models: dict[str, str], expected: str) -> None:
    out = map_model(exchange(client, 1000, provider), MapModelConfig(models=models), PORTS)
    assert out.request.model == expected
    assert out.route is not None and out.route.model == expected
    assert out.route.provider == provider
    assert out.notes == (Note("map_model", f"{client}>{expected}"),)
    assert out.context.client_model == client


@pytest.mark.parametrize(
    ("provider", "asked", "limits", "expected"),
    [
        pytest.param("ollama", 128000, None, 8192, id="ollama-default-limit"),
        pytest.param("openai", 128000, None, 16384, id="openai-default-limit"),
        pytest.param("openai", 4096, None, 4096, id="below-limit-kept"),
        pytest.param("openai", 16384, None, 16384, id="at-limit-kept"),
        pytest.param("mine", 128000, None, 128000, id="unlisted-provider-unlimited"),
        pytest.param("mine", 128000, {"default": 2048}, 2048, id="default-key"),
        pytest.param(
            "ollama",
            128000,
            {"ollama": 32000, "default": 2048},
            32000,
            id="provider-key-beats-default",
        ),
        pytest.param("ollama", 100, {"ollama": 32000}, 100, id="never-raised"),
        pytest.param("ollama", 128000, {"ollama": 0}, 128000, id="zero-means-no-limit"),
    ],
)
def test_max_tokens(
    provider: str, asked: int, limits: dict[str, int] | None, expected: int
) -> None:
    config = MapModelConfig() if limits is None else MapModelConfig(max_output_tokens=limits)
    out = map_model(exchange("claude-sonnet-4-5", asked, provider), config, PORTS)
    assert out.request.max_tokens == expected
    assert out.request.max_tokens <= asked


def test_summary_names_model_and_clamp() -> None:
    out = map_model(exchange("claude-sonnet-4-5", 128000), MapModelConfig(), PORTS)
    assert out.notes == (
        Note("map_model", "claude-sonnet-4-5>qwen2.5-coder:7b max_tokens 128000>8192"),
    )
    assert out.request == attrs.evolve(
        exchange("claude-sonnet-4-5", 1).request, model="qwen2.5-coder:7b", max_tokens=8192
    )


def test_unchanged_when_model_and_limit_already_fit() -> None:
    before = exchange("qwen2.5-coder:7b", 1000)
    out = map_model(before, MapModelConfig(), PORTS)
    assert out.request is before.request
    assert out.route == before.route
    assert out.notes == (Note("map_model", "unchanged"),)


def test_conversation_untouched() -> None:
    before = exchange("claude-opus-4-1", 128000)
    out = map_model(before, MapModelConfig(models=PATTERNS), PORTS)
    assert out.request.messages == before.request.messages
    assert (
        attrs.evolve(out.request, model=before.request.model, max_tokens=before.request.max_tokens)
        == before.request
    )


LIMITS = Ports(
    {**PORTS.providers,
     "anthropic": ProviderInfo("anthropic", "anthropic", "", "https://a/v1/messages")},
    "ollama", output_limit=lambda model: {"gpt-5.5": 128_000, "qwen3:8b": 32_768}.get(model))


@pytest.mark.parametrize(("provider", "model", "asked", "expected"), [
    pytest.param("openai", "gpt-5.5", 0, 128_000, id="no-limit-known-model-own-limit"),
    pytest.param("openai", "mystery", 0, 0, id="no-limit-unknown-model-backend-default"),
    pytest.param("ollama", "qwen3:8b", 0, 32_768, id="no-limit-ollama-known"),
    pytest.param("anthropic", "claude-x", 0, 32_000, id="no-limit-anthropic-needs-one"),
    pytest.param("openai", "gpt-5.5", 100_000, 100_000, id="known-model-lifts-provider-cap"),
    pytest.param("openai", "gpt-5.5", 200_000, 128_000, id="known-model-caps"),
    pytest.param("openai", "mystery", 50_000, 16_384, id="unknown-model-provider-cap"),
    pytest.param("anthropic", "claude-x", 128_000, 128_000, id="anthropic-keeps-client-limit"),
])
def test_output_limit_of_the_routed_model(provider: str, model: str, asked: int,
                                          expected: int) -> None:
    req = Request("client", (Message("user", (TextBlock("hi"),)),), asked)
    before = Exchange(req, Context("r1"), route=Route(provider, model, "configured"))
    out = map_model(before, MapModelConfig(), LIMITS)
    assert out.request.max_tokens == expected
