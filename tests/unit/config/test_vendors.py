"""The vendor facts table: one entry per provider, and the facts code branches on."""

from __future__ import annotations

import pytest

from lynkr.config.providers import PROVIDERS
from lynkr.config.settings import load_settings
from lynkr.config.vendors import VENDORS, family_of


def test_every_provider_has_its_facts() -> None:
    assert sorted(VENDORS) == sorted(PROVIDERS)


def test_local_providers() -> None:
    assert sorted(n for n, v in VENDORS.items() if v.local) == ["llamacpp", "lmstudio", "ollama"]


@pytest.mark.parametrize(("name", "endpoint", "family"), [
    ("databricks", "https://d/serving-endpoints/x/invocations", "openai"),
    ("databricks", "https://d/serving-endpoints/anthropic/v1/messages", "anthropic"),
    ("azure-anthropic", "https://r.services.ai.azure.com/anthropic/v1/messages", "anthropic"),
    ("ollama", "http://o/api/chat", "ollama"),
    ("bedrock", "https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock"),
])
def test_family_of(name: str, endpoint: str, family: str) -> None:
    assert family_of(name, endpoint) == family


@pytest.mark.parametrize(("name", "env", "control"), [
    ("openai", {"OPENAI_API_KEY": "k"}, "reasoning_effort"),
    ("openrouter", {"OPENROUTER_API_KEY": "k"}, "openrouter"),
    ("azure-openai", {"AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
                      "AZURE_OPENAI_API_KEY": "k", "AZURE_OPENAI_DEPLOYMENT": "d"},
     "reasoning_effort"),
    ("lmstudio", {}, ""),
    ("lmstudio", {"LMSTUDIO_THINKING": "enable_thinking"}, "enable_thinking"),
])
def test_thinking_control_comes_from_facts_or_the_users_choice(
        name: str, env: dict[str, str], control: str) -> None:
    settings = load_settings(environ={"MODEL_PROVIDER": name, **env},
                             env_file="/nonexistent/.env")
    assert settings.provider.thinking_control == control
