"""route: the configured provider, a pipeline-chosen provider, or a clear 400."""

from __future__ import annotations

import pytest

from lynkr.model import BadRequest, Message, Request, TextBlock
from lynkr.ports import Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange, Note, Route
from lynkr.stages.route import RouteConfig, route

OLLAMA = ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://localhost:11434/api/chat")
OPENAI = ProviderInfo("openai", "openai", "gpt-4o", "https://api.openai.com/v1/chat/completions")
PORTS = Ports({"ollama": OLLAMA, "openai": OPENAI}, default_provider="ollama")
REQUEST = Request("claude-sonnet-4-5", (Message("user", (TextBlock("hi"),)),), 1024)


@pytest.mark.parametrize(
    ("config", "ports", "expected", "summary"),
    [
        pytest.param(
            RouteConfig(),
            PORTS,
            Route("ollama", "qwen2.5-coder:7b", "configured provider"),
            "ollama (configured provider)",
            id="default-provider",
        ),
        pytest.param(
            RouteConfig(),
            Ports(PORTS.providers, "openai"),
            Route("openai", "gpt-4o", "configured provider"),
            "openai (configured provider)",
            id="other-default",
        ),
        pytest.param(
            RouteConfig(provider="openai"),
            PORTS,
            Route("openai", "gpt-4o", "pipeline provider", kind="pipeline"),
            "openai (pipeline provider)",
            id="pipeline-provider",
        ),
    ],
)
def test_route(config: RouteConfig, ports: Ports, expected: Route, summary: str) -> None:
    before = Exchange(REQUEST, Context("r1"))
    out = route(before, config, ports)
    assert out.route == expected
    assert out.notes == (Note("route", summary),)
    assert out.request is REQUEST  # the request itself is not touched


@pytest.mark.parametrize(
    ("config", "ports"),
    [
        pytest.param(RouteConfig(provider="bedrock"), PORTS, id="pipeline-names-unknown"),
        pytest.param(RouteConfig(), Ports(PORTS.providers, "lmstudio"), id="default-unknown"),
    ],
)
def test_unknown_provider_is_bad_request(config: RouteConfig, ports: Ports) -> None:
    with pytest.raises(BadRequest) as info:
        route(Exchange(REQUEST, Context("r1")), config, ports)
    assert info.value.status == 400
    assert "is not configured" in info.value.message
    assert repr(config.provider or ports.default_provider) in info.value.message
