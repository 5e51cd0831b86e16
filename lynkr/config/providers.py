"""Per-provider settings: endpoint, key, model and timeout, under the original's names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

PROVIDERS = ("ollama", "openai", "openrouter", "llamacpp", "lmstudio")
UNSUPPORTED = ("databricks", "bedrock", "azure-openai", "azure-anthropic", "anthropic")


@attrs.frozen
class ProviderSettings:
    name: str
    endpoint: str  # full URL of the chat endpoint
    model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    organization: str | None = None
    read_timeout_s: float = 120.0
    num_ctx: int = 32768  # Ollama only


# name: (prefix, default base, chat path, default model, key required)
_TABLE = {
    "ollama": ("OLLAMA", "http://localhost:11434", "/api/chat", "qwen2.5-coder:7b", False),
    "openai": ("OPENAI", "https://api.openai.com/v1/chat/completions", "", "gpt-4o", True),
    "openrouter": ("OPENROUTER", "https://openrouter.ai/api/v1/chat/completions", "",
                   "openai/gpt-4o-mini", True),
    "llamacpp": ("LLAMACPP", "http://localhost:8080", "/v1/chat/completions", "default", False),
    "lmstudio": ("LMSTUDIO", "http://localhost:1234", "/v1/chat/completions", "default", False),
}


def provider_settings(name: str, env: Env, *, required: bool) -> ProviderSettings:
    prefix, base, path, model, key_required = _TABLE[name]
    endpoint = chat_url(env.url(f"{prefix}_ENDPOINT", base), path)
    key = env.str(f"{prefix}_API_KEY")
    if required and key_required and not key:
        raise SettingsError(f"{prefix}_API_KEY is required when MODEL_PROVIDER={name}")
    return ProviderSettings(
        name=name,
        endpoint=endpoint,
        model=env.str(f"{prefix}_MODEL", model) or model,
        api_key=key,
        organization=env.str("OPENAI_ORGANIZATION") if name == "openai" else None,
        read_timeout_s=env.int(f"{prefix}_TIMEOUT_MS", 120_000, minimum=1) / 1000,
        num_ctx=env.int("OLLAMA_NUM_CTX", 32768, minimum=512) if name == "ollama" else 0,
    )


def chat_url(endpoint: str, path: str) -> str:
    """A base URL gets the provider's chat path; a full chat URL is kept as it is.

    ``OPENAI_ENDPOINT=https://host/v1`` becomes ``https://host/v1/chat/completions``.
    """
    if not path:  # the variable is documented as the full chat-completions URL
        return endpoint if endpoint.endswith("/chat/completions") else \
            endpoint + "/chat/completions"
    if endpoint.endswith(path):
        return endpoint
    if path == "/v1/chat/completions" and endpoint.endswith("/v1"):
        return endpoint + "/chat/completions"
    return endpoint + path
