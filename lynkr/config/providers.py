"""Per-provider settings: endpoint, key, model and timeout, under the original's names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.bedrock import bedrock_settings
from lynkr.config.cloud import BUILDERS, echo_flag
from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

PROVIDERS = ("ollama", "openai", "openrouter", "llamacpp", "lmstudio", "anthropic",
             "azure-anthropic", "azure-openai", "databricks", "bedrock")


@attrs.frozen
class ProviderSettings:
    name: str
    endpoint: str  # full URL of the chat endpoint
    model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    organization: str | None = None
    read_timeout_s: float = 120.0
    num_ctx: int = 32768  # Ollama only
    api_version: str | None = None  # anthropic-version header / Azure api-version
    betas: tuple[str, ...] | None = None  # anthropic-beta allow-list; None: capability table
    # send this backend's own reasoning back on the next turn (it always travels in thinking
    # signatures); None: not set, formats.reasoning.echo_by_default decides
    echo_reasoning: bool | None = None
    # how to ask for reasoning: "" (never), "reasoning_effort", "enable_thinking",
    # "think" (Ollama true/false), "think_level" (Ollama low/medium/high)
    thinking_control: str = ""
    # prompt-cache hints sent with each request: "prompt_cache_key" (OpenAI), "cache_prompt"
    # (llama.cpp: cache_prompt, and id_slot when cache_slots > 0), "" none
    cache_hint: str = ""
    cache_slots: int = 0


# name: (prefix, default base, chat path, default model, key required)
_TABLE = {
    "ollama": ("OLLAMA", "http://localhost:11434", "/api/chat", "qwen2.5-coder:7b", False),
    "openai": ("OPENAI", "https://api.openai.com/v1/chat/completions", "", "gpt-4o", True),
    "openrouter": ("OPENROUTER", "https://openrouter.ai/api/v1/chat/completions", "",
                   "openai/gpt-4o-mini", True),
    "llamacpp": ("LLAMACPP", "http://localhost:8080", "/v1/chat/completions", "default", False),
    "lmstudio": ("LMSTUDIO", "http://localhost:1234", "/v1/chat/completions", "default", False),
}


_THINKING = {  # variable -> accepted values (the value is the control)
    "OLLAMA_THINK": {"true": "think", "level": "think_level", "false": ""},
    "LLAMACPP_THINKING": {"reasoning_effort": "reasoning_effort",
                          "enable_thinking": "enable_thinking", "off": ""},
    "LMSTUDIO_THINKING": {"reasoning_effort": "reasoning_effort",
                          "enable_thinking": "enable_thinking", "off": ""},
}


def provider_settings(name: str, env: Env, *, required: bool) -> ProviderSettings:
    if name in BUILDERS:
        return BUILDERS[name](env, required=required)
    if name == "bedrock":
        return bedrock_settings(env, required=required).as_provider()
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
        echo_reasoning=echo_flag(env, f"{prefix}_ECHO_REASONING", default=None),
        thinking_control=_thinking(env, name, prefix),
        cache_hint=_cache_hint(env, name, endpoint),
        cache_slots=env.int("LLAMACPP_SLOTS", 0) if name == "llamacpp" else 0,
    )


def _cache_hint(env: Env, name: str, endpoint: str) -> str:
    """OpenAI's own API takes ``prompt_cache_key`` (OPENAI_PROMPT_CACHE_KEY=true|false forces
    it for a compatible server); llama.cpp's server takes ``cache_prompt`` and ``id_slot``."""
    if name == "llamacpp":
        return "cache_prompt"
    if name == "openai":
        raw = (env.str("OPENAI_PROMPT_CACHE_KEY") or "").lower()
        if raw not in ("", "true", "false"):
            raise SettingsError(f"OPENAI_PROMPT_CACHE_KEY must be true or false, got {raw!r}")
        wanted = raw == "true" if raw else endpoint.startswith("https://api.openai.com/")
        return "prompt_cache_key" if wanted else ""
    return ""


def _thinking(env: Env, name: str, prefix: str) -> str:
    if name == "openai":
        return "reasoning_effort"  # sent to reasoning models only (profiles.REASONING_MODELS)
    if name == "openrouter":
        return "openrouter"
    variable = "OLLAMA_THINK" if name == "ollama" else f"{prefix}_THINKING"
    raw = (env.str(variable) or "").lower()
    allowed = _THINKING[variable]
    if raw and raw not in allowed:
        raise SettingsError(f"{variable} must be one of {', '.join(allowed)}, got {raw!r}")
    return allowed.get(raw, "")


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
