"""MODEL_PROVIDER unset: the first provider whose credentials are all set, else the local
Ollama; MODEL_PROVIDER always wins."""

from __future__ import annotations

import pytest

from lynkr.config.settings import load_settings

DATABRICKS = {"DATABRICKS_API_BASE": "https://w.cloud.databricks.com", "DATABRICKS_API_KEY": "d"}


def chosen(environ: dict[str, str]) -> tuple[str, str]:
    settings = load_settings(environ=environ, env_file="/nonexistent/.env")
    return settings.model_provider, settings.provider_source


@pytest.mark.parametrize(("environ", "provider"), [
    ({}, "ollama"),
    (DATABRICKS, "databricks"),
    ({**DATABRICKS, "OPENAI_API_KEY": "sk"}, "databricks"),  # the original's default first
    ({"DATABRICKS_API_KEY": "d", "OPENAI_API_KEY": "sk"}, "openai"),  # half a pair is not set
    ({"OPENROUTER_API_KEY": "or", "AWS_BEDROCK_API_KEY": "b"}, "openrouter"),
    ({"AWS_BEDROCK_API_KEY": "b"}, "bedrock"),
    ({**DATABRICKS, "MODEL_PROVIDER": "ollama"}, "ollama"),
])
def test_provider_from_credentials(environ: dict[str, str], provider: str) -> None:
    assert chosen(environ)[0] == provider


def test_the_reason_names_the_variables() -> None:
    assert chosen(DATABRICKS)[1] == ("MODEL_PROVIDER is not set; DATABRICKS_API_BASE and "
                                     "DATABRICKS_API_KEY are set")
    assert chosen({"MODEL_PROVIDER": "ollama"})[1] == "MODEL_PROVIDER"
    assert "the local Ollama" in chosen({})[1]
