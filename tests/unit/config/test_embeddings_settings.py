"""Embeddings settings: choice order, derived endpoints, one named error per bad value."""

from __future__ import annotations

import pytest

from lynkr.config import SettingsError, load_settings
from lynkr.config.embeddings import EmbeddingsSettings, sibling_embeddings_url


def embeddings(**env: str) -> EmbeddingsSettings:
    return load_settings(environ=env, env_file="/nonexistent/.env").embeddings


def test_default_is_the_chat_providers_ollama() -> None:
    assert embeddings() == EmbeddingsSettings(
        provider="ollama", model="nomic-embed-text",
        endpoint="http://localhost:11434/api/embed", chosen_by="MODEL_PROVIDER")


@pytest.mark.parametrize(("env", "provider", "chosen_by"), [
    ({"EMBEDDINGS_PROVIDER": "OpenAI", "OPENAI_API_KEY": "k"}, "openai", "EMBEDDINGS_PROVIDER"),
    ({"EMBEDDINGS_PROVIDER": "local"}, "local", "EMBEDDINGS_PROVIDER"),
    ({"MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "k"}, "openrouter",
     "MODEL_PROVIDER"),
    ({"MODEL_PROVIDER": "llamacpp", "OPENAI_API_KEY": "k"}, "llamacpp", "MODEL_PROVIDER"),
    ({"MODEL_PROVIDER": "lmstudio", "OPENAI_API_KEY": "k", "OPENROUTER_API_KEY": "k"},
     "openrouter", "first configured"),
    ({"MODEL_PROVIDER": "lmstudio", "OPENAI_API_KEY": "k", "LOCAL_EMBEDDINGS_MODEL": "/m"},
     "local", "first configured"),
    ({"MODEL_PROVIDER": "lmstudio", "LLAMACPP_EMBEDDINGS_ENDPOINT": "http://h:8/embeddings",
      "OLLAMA_EMBEDDINGS_MODEL": "nomic"}, "ollama", "first configured"),
    ({"MODEL_PROVIDER": "lmstudio", "LLAMACPP_EMBEDDINGS_ENDPOINT": "http://h:8/embeddings"},
     "llamacpp", "first configured"),
    ({"MODEL_PROVIDER": "lmstudio"}, None, ""),
])
def test_choice_order(env: dict[str, str], provider: str | None, chosen_by: str) -> None:
    settings = embeddings(**env)
    assert (settings.provider, settings.chosen_by) == (provider, chosen_by)


@pytest.mark.parametrize(("env", "endpoint", "model"), [
    ({"OLLAMA_ENDPOINT": "http://gpu:11434/api/chat"}, "http://gpu:11434/api/embed",
     "nomic-embed-text"),
    ({"OLLAMA_EMBEDDINGS_ENDPOINT": "http://e:1/api/embeddings/", "OLLAMA_EMBEDDINGS_MODEL": "mx"},
     "http://e:1/api/embeddings", "mx"),
    ({"MODEL_PROVIDER": "llamacpp"}, "http://localhost:8080/embeddings", ""),
    ({"MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": "http://l:9/v1/chat/completions"},
     "http://l:9/v1/embeddings", ""),
    ({"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k"}, "https://api.openai.com/v1/embeddings",
     "text-embedding-3-small"),
    ({"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k", "OPENAI_ENDPOINT": "http://o/v1",
      "OPENAI_EMBEDDINGS_MODEL": "te3-large"}, "http://o/v1/embeddings", "te3-large"),
    ({"MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "k"},
     "https://openrouter.ai/api/v1/embeddings", "openai/text-embedding-3-small"),
    ({"MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "k",
      "OPENROUTER_ENDPOINT": "http://r", "OPENROUTER_EMBEDDINGS_MODEL": "qwen/e"},
     "http://r/api/v1/embeddings", "qwen/e"),
])
def test_endpoints_and_models(env: dict[str, str], endpoint: str, model: str) -> None:
    settings = embeddings(**env)
    assert (settings.endpoint, settings.model) == (endpoint, model)


def test_keys_organization_and_timeout_come_from_the_provider_variables() -> None:
    settings = embeddings(EMBEDDINGS_PROVIDER="openai", OPENAI_API_KEY="sk-x",
                          OPENAI_ORGANIZATION="org-1", OPENAI_TIMEOUT_MS="5000")
    assert (settings.api_key, settings.organization, settings.read_timeout_s) == \
        ("sk-x", "org-1", 5.0)
    assert "sk-x" not in repr(settings)


def test_local_settings() -> None:
    assert embeddings(EMBEDDINGS_PROVIDER="local", LOCAL_EMBEDDINGS_MODEL="/models/minilm",
                      LOCAL_EMBEDDINGS_DEVICE="CUDA:1", LOCAL_EMBEDDINGS_BATCH_SIZE="8") == \
        EmbeddingsSettings(provider="local", model="/models/minilm", device="cuda:1",
                           batch_size=8, chosen_by="EMBEDDINGS_PROVIDER")
    assert embeddings(EMBEDDINGS_PROVIDER="local").model == \
        "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize(("env", "message"), [
    ({"EMBEDDINGS_PROVIDER": "bedrock"},
     "EMBEDDINGS_PROVIDER must be one of ollama, llamacpp, openrouter, openai, local, "
     "got 'bedrock'"),
    ({"EMBEDDINGS_PROVIDER": "openai"},
     "OPENAI_API_KEY is required for embeddings from openai (chosen by EMBEDDINGS_PROVIDER)"),
    ({"EMBEDDINGS_PROVIDER": "openrouter"}, "OPENROUTER_API_KEY is required"),
    ({"OLLAMA_EMBEDDINGS_ENDPOINT": "localhost:11434/api/embed"},
     "OLLAMA_EMBEDDINGS_ENDPOINT must be an http:// or https:// URL"),
    ({"EMBEDDINGS_PROVIDER": "llamacpp", "LLAMACPP_EMBEDDINGS_ENDPOINT": "ftp://x"},
     "LLAMACPP_EMBEDDINGS_ENDPOINT must be an http:// or https:// URL"),
    ({"EMBEDDINGS_PROVIDER": "local", "LOCAL_EMBEDDINGS_BATCH_SIZE": "0"},
     "LOCAL_EMBEDDINGS_BATCH_SIZE must be at least 1, got 0"),
    ({"EMBEDDINGS_PROVIDER": "local", "LOCAL_EMBEDDINGS_BATCH_SIZE": "many"},
     "LOCAL_EMBEDDINGS_BATCH_SIZE must be a whole number"),
    ({"EMBEDDINGS_PROVIDER": "local", "LOCAL_EMBEDDINGS_DEVICE": "the gpu"},
     "LOCAL_EMBEDDINGS_DEVICE must be a torch device"),
])
def test_bad_values_are_one_line_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        embeddings(**env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("chat", "version", "expected"), [
    ("https://h/v1/chat/completions", "/v1", "https://h/v1/embeddings"),
    ("https://h/v1", "/v1", "https://h/v1/embeddings"),
    ("https://h", "/v1", "https://h/v1/embeddings"),
    ("https://h/openai/v1beta/chat/completions", "/v1", "https://h/openai/v1beta/embeddings"),
    ("https://h/v1/embeddings", "/v1", "https://h/v1/embeddings"),
    ("https://openrouter.ai/api/v1", "/api/v1", "https://openrouter.ai/api/v1/embeddings"),
])
def test_sibling_embeddings_url(chat: str, version: str, expected: str) -> None:
    assert sibling_embeddings_url(chat, version) == expected


def test_lynkr_check_shows_the_embeddings_settings_with_the_key_masked() -> None:
    from lynkr.check import effective

    shown = effective(load_settings(environ={"EMBEDDINGS_PROVIDER": "openai",
                                             "OPENAI_API_KEY": "sk-proj-abcdefghijklmnop"},
                                    env_file="/nonexistent/.env"))
    assert shown["embeddings"]["provider"] == "openai"
    assert shown["embeddings"]["api_key"] == "sk-…op"
