"""Settings: defaults, .env overlaid by the environment, one named error per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.config import ProviderSettings, Settings, SettingsError, load_settings


def load(tmp_path: Path, env: dict[str, str] | None = None, dotenv: str | None = None) -> Settings:
    env_file = tmp_path / ".env"
    if dotenv is not None:
        env_file.write_text(dotenv, encoding="utf-8")
    return load_settings(environ=env or {}, env_file=str(env_file))


def test_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path)
    assert settings.model_provider == "ollama"
    assert settings.provider == ProviderSettings(
        name="ollama",
        endpoint="http://localhost:11434/api/chat",
        model="qwen2.5-coder:7b",
        api_key=None,
        read_timeout_s=120.0,
        num_ctx=32768,
    )
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8081, 1)
    assert settings.log_level == "info"
    assert settings.pipeline is None
    assert settings.max_body_bytes == 32 * 1024 * 1024
    assert (settings.connect_timeout_s, settings.keepalive_expiry_s) == (10.0, 30.0)
    assert (settings.max_connections, settings.graceful_timeout_s) == (1000, 30.0)
    assert set(settings.providers) == {"ollama", "openai", "openrouter", "llamacpp", "lmstudio",
                                       "anthropic", "azure-anthropic", "azure-openai",
                                       "databricks", "bedrock"}


def test_dotenv_read_and_environment_wins(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        env={"PORT": "9000", "LOG_LEVEL": "DEBUG"},
        dotenv="PORT=8500\nOLLAMA_MODEL=llama3.1:8b\nLOG_LEVEL=warning\nLYNKR_PIPELINE=fast\n",
    )
    assert settings.port == 9000
    assert settings.log_level == "debug"
    assert settings.provider.model == "llama3.1:8b"
    assert settings.pipeline == "fast"


def test_lynkr_env_file_variable(tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    other.write_text("PORT=7000\n")
    settings = load_settings(environ={"LYNKR_ENV_FILE": str(other)})
    assert settings.port == 7000


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    settings = load_settings(environ={"PORT": "8999"}, env_file=str(tmp_path / "absent.env"))
    assert settings.port == 8999


def test_empty_values_mean_default(tmp_path: Path) -> None:
    settings = load(tmp_path, env={"PORT": "", "MODEL_PROVIDER": "  ", "OLLAMA_MODEL": ""})
    assert settings.port == 8081
    assert settings.model_provider == "ollama"
    assert settings.provider.model == "qwen2.5-coder:7b"


@pytest.mark.parametrize(
    ("env", "variable", "message"),
    [
        pytest.param(
            {"PORT": "abc"},
            "PORT",
            "PORT must be a whole number, got 'abc'",
            id="port-not-a-number",
        ),
        pytest.param({"PORT": "0"}, "PORT", "PORT must be at least 1, got 0", id="port-zero"),
        pytest.param(
            {"OLLAMA_TIMEOUT_MS": "-1"},
            "OLLAMA_TIMEOUT_MS",
            "OLLAMA_TIMEOUT_MS must be at least 1, got -1",
            id="negative-timeout",
        ),
        pytest.param(
            {"OLLAMA_ENDPOINT": "localhost:11434"},
            "OLLAMA_ENDPOINT",
            "OLLAMA_ENDPOINT must be an http:// or https:// URL, got 'localhost:11434'",
            id="endpoint-without-scheme",
        ),
        pytest.param(
            {"MODEL_PROVIDER": "nope"},
            "MODEL_PROVIDER",
            "MODEL_PROVIDER must be one of ollama, openai, openrouter, llamacpp, "
            "lmstudio, anthropic, azure-anthropic, azure-openai, databricks, bedrock, "
            "got 'nope'",
            id="unknown-provider",
        ),
        pytest.param(
            {"MODEL_PROVIDER": "bedrock", "AWS_BEDROCK_CLAUDE_API": "http"},
            "AWS_BEDROCK_CLAUDE_API",
            "AWS_BEDROCK_CLAUDE_API must be one of invoke, converse, got 'http'",
            id="bedrock-claude-api",
        ),
        pytest.param(
            {"MODEL_PROVIDER": "openai"},
            "OPENAI_API_KEY",
            "OPENAI_API_KEY is required when MODEL_PROVIDER=openai",
            id="openai-without-key",
        ),
        pytest.param(
            {"MODEL_PROVIDER": "OpenRouter"},
            "OPENROUTER_API_KEY",
            "OPENROUTER_API_KEY is required when MODEL_PROVIDER=openrouter",
            id="openrouter-without-key",
        ),
        pytest.param(
            {"LOG_LEVEL": "loud"},
            "LOG_LEVEL",
            "LOG_LEVEL must be one of debug, info, warning, error, got 'loud'",
            id="log-level",
        ),
        pytest.param(
            {"LYNKR_WORKERS": "2.5"},
            "LYNKR_WORKERS",
            "LYNKR_WORKERS must be a whole number, got '2.5'",
            id="workers",
        ),
        pytest.param(
            {"OLLAMA_NUM_CTX": "100"},
            "OLLAMA_NUM_CTX",
            "OLLAMA_NUM_CTX must be at least 512, got 100",
            id="num-ctx",
        ),
        pytest.param(
            {"MAX_REQUEST_BODY_BYTES": "1"},
            "MAX_REQUEST_BODY_BYTES",
            "MAX_REQUEST_BODY_BYTES must be at least 1024, got 1",
            id="body-size",
        ),
    ],
)
def test_bad_value_names_its_variable(
    tmp_path: Path, env: dict[str, str], variable: str, message: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load(tmp_path, env=env)
    assert str(info.value) == message
    assert variable in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_value_in_dotenv_is_reported_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^PORT must be a whole number, got 'x'$"):
        load(tmp_path, dotenv="PORT=x\n")


def test_key_not_required_for_other_providers(tmp_path: Path) -> None:
    settings = load(tmp_path, env={"MODEL_PROVIDER": "llamacpp"})
    assert settings.provider.api_key is None
    assert settings.providers["openai"].api_key is None


def test_openai_with_key(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        env={
            "MODEL_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test-123",
            "OPENAI_ORGANIZATION": "org-1",
        },
    )
    assert settings.provider == ProviderSettings(
        name="openai",
        endpoint="https://api.openai.com/v1/chat/completions",
        model="gpt-4o",
        api_key="sk-test-123",
        organization="org-1",
        num_ctx=0,
        thinking_control="reasoning_effort",
        cache_hint="prompt_cache_key",  # OpenAI's own API takes prompt_cache_key
    )
    assert "sk-test-123" not in repr(settings.provider)


@pytest.mark.parametrize(
    ("env", "hint", "slots"),
    [
        ({"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k",
          "OPENAI_ENDPOINT": "http://127.0.0.1:9/v1"}, "", 0),
        ({"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k", "OPENAI_PROMPT_CACHE_KEY": "true",
          "OPENAI_ENDPOINT": "http://127.0.0.1:9/v1"}, "prompt_cache_key", 0),
        ({"MODEL_PROVIDER": "llamacpp"}, "cache_prompt", 0),
        ({"MODEL_PROVIDER": "llamacpp", "LLAMACPP_SLOTS": "4"}, "cache_prompt", 4),
        ({"MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "k"}, "", 0),
    ],
)
def test_prompt_cache_hints(tmp_path: Path, env: dict[str, str], hint: str, slots: int) -> None:
    settings = load(tmp_path, env=env)
    assert (settings.provider.cache_hint, settings.provider.cache_slots) == (hint, slots)


def test_prompt_cache_key_flag_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OPENAI_PROMPT_CACHE_KEY"):
        load(tmp_path, env={"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "k",
                            "OPENAI_PROMPT_CACHE_KEY": "maybe"})


@pytest.mark.parametrize(
    ("env", "model"),
    [
        pytest.param({"MODEL_DEFAULT": "qwen3:14b"}, "qwen3:14b", id="model-default"),
        pytest.param(
            {"MODEL_DEFAULT": "qwen3:14b", "OLLAMA_MODEL": "llama3"},
            "qwen3:14b",
            id="model-default-beats-provider-model",
        ),
        pytest.param({"OLLAMA_MODEL": "llama3"}, "llama3", id="provider-model"),
    ],
)
def test_model_default_overrides_provider_model(
    tmp_path: Path, env: dict[str, str], model: str
) -> None:
    settings = load(tmp_path, env=env)
    assert settings.provider.model == model
    assert settings.providers["openai"].model == "gpt-4o"  # only the chosen provider


@pytest.mark.parametrize(
    ("provider", "variable", "value", "endpoint"),
    [
        (
            "openai",
            "OPENAI_ENDPOINT",
            "https://gw.example/v1",
            "https://gw.example/v1/chat/completions",
        ),
        (
            "openai",
            "OPENAI_ENDPOINT",
            "https://gw.example/v1/",
            "https://gw.example/v1/chat/completions",
        ),
        (
            "openai",
            "OPENAI_ENDPOINT",
            "https://gw.example/v1/chat/completions",
            "https://gw.example/v1/chat/completions",
        ),
        (
            "openrouter",
            "OPENROUTER_ENDPOINT",
            "https://or.example/api/v1",
            "https://or.example/api/v1/chat/completions",
        ),
        ("llamacpp", "LLAMACPP_ENDPOINT", "http://box:8080", "http://box:8080/v1/chat/completions"),
        (
            "llamacpp",
            "LLAMACPP_ENDPOINT",
            "http://box:8080/v1",
            "http://box:8080/v1/chat/completions",
        ),
        (
            "llamacpp",
            "LLAMACPP_ENDPOINT",
            "http://box:8080/v1/chat/completions",
            "http://box:8080/v1/chat/completions",
        ),
        (
            "lmstudio",
            "LMSTUDIO_ENDPOINT",
            "http://box:1234/v1",
            "http://box:1234/v1/chat/completions",
        ),
        ("ollama", "OLLAMA_ENDPOINT", "http://gpu:11434", "http://gpu:11434/api/chat"),
        ("ollama", "OLLAMA_ENDPOINT", "http://gpu:11434/", "http://gpu:11434/api/chat"),
        ("ollama", "OLLAMA_ENDPOINT", "http://gpu:11434/api/chat", "http://gpu:11434/api/chat"),
    ],
)
def test_endpoint_forms(
    tmp_path: Path, provider: str, variable: str, value: str, endpoint: str
) -> None:
    settings = load(tmp_path, env={variable: value})
    assert settings.providers[provider].endpoint == endpoint


@pytest.mark.parametrize(
    ("provider", "endpoint"),
    [
        ("openrouter", "https://openrouter.ai/api/v1/chat/completions"),
        ("llamacpp", "http://localhost:8080/v1/chat/completions"),
        ("lmstudio", "http://localhost:1234/v1/chat/completions"),
    ],
)
def test_default_endpoints(tmp_path: Path, provider: str, endpoint: str) -> None:
    assert load(tmp_path).providers[provider].endpoint == endpoint


def test_numbers_and_timeouts(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        env={
            "OLLAMA_TIMEOUT_MS": "5000",
            "UPSTREAM_CONNECT_TIMEOUT_MS": "250",
            "UPSTREAM_KEEPALIVE_MS": "0",
            "GRACEFUL_SHUTDOWN_TIMEOUT": "1500",
            "LYNKR_WORKERS": "4",
            "LYNKR_HOST": "0.0.0.0",
            "OLLAMA_NUM_CTX": "8192",
        },
    )
    assert settings.provider.read_timeout_s == 5.0
    assert settings.provider.num_ctx == 8192
    assert settings.connect_timeout_s == 0.25
    assert settings.keepalive_expiry_s == 0.0
    assert settings.graceful_timeout_s == 1.5
    assert (settings.workers, settings.host) == (4, "0.0.0.0")
