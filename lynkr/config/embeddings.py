"""Embeddings settings under the original's names, plus the in-process ``local`` provider.

Which provider answers ``POST /v1/embeddings``: ``EMBEDDINGS_PROVIDER`` if set; else the chat
provider (``MODEL_PROVIDER``) when it serves embeddings; else the first configured one, in the
order ollama, llamacpp, local, openrouter, openai; else none (the endpoint answers 501).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.providers import ProviderSettings
    from lynkr.config.settings import Env

EMBEDDINGS_PROVIDERS = ("ollama", "llamacpp", "openrouter", "openai", "local")
FIRST_CONFIGURED = ("ollama", "llamacpp", "local", "openrouter", "openai")
HOW_TO_CONFIGURE = (
    "set EMBEDDINGS_PROVIDER (ollama, llamacpp, openrouter, openai or local), or configure one "
    "of OLLAMA_EMBEDDINGS_MODEL, LLAMACPP_EMBEDDINGS_ENDPOINT, LOCAL_EMBEDDINGS_MODEL, "
    "OPENROUTER_API_KEY, OPENAI_API_KEY"
)
_DEVICE = re.compile(r"^[a-z]+(:\d+)?$")


@attrs.frozen
class EmbeddingsSettings:
    provider: str | None = None  # None: nothing configured
    model: str = ""  # the upstream model name, or for ``local`` a directory or a model name
    endpoint: str = ""  # full URL of a remote provider's embeddings endpoint
    api_key: str | None = attrs.field(default=None, repr=False)
    organization: str | None = None
    read_timeout_s: float = 120.0
    device: str = "cpu"  # local only
    batch_size: int = 32  # local only
    chosen_by: str = ""  # which rule chose the provider, for logs and ``lynkr check``


def embeddings_settings(env: Env, model_provider: str,
                        providers: Mapping[str, ProviderSettings]) -> EmbeddingsSettings:
    explicit = env.str("EMBEDDINGS_PROVIDER")
    if explicit is not None:
        name = env.choice("EMBEDDINGS_PROVIDER", "", EMBEDDINGS_PROVIDERS)
        chosen_by = "EMBEDDINGS_PROVIDER"
    elif model_provider in EMBEDDINGS_PROVIDERS:
        name, chosen_by = model_provider, "MODEL_PROVIDER"
    else:
        configured = [n for n in FIRST_CONFIGURED if _configured(n, env)]
        if not configured:
            return EmbeddingsSettings()
        name, chosen_by = configured[0], "first configured"
    if name == "local":
        return EmbeddingsSettings(
            provider="local",
            model=env.str("LOCAL_EMBEDDINGS_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
            or "",
            device=_device(env),
            batch_size=env.int("LOCAL_EMBEDDINGS_BATCH_SIZE", 32, minimum=1),
            chosen_by=chosen_by,
        )
    return _remote(name, env, providers[name], chosen_by)


def _configured(name: str, env: Env) -> bool:
    names = {
        "ollama": ("OLLAMA_EMBEDDINGS_MODEL", "OLLAMA_EMBEDDINGS_ENDPOINT"),
        "llamacpp": ("LLAMACPP_EMBEDDINGS_ENDPOINT",),
        "local": ("LOCAL_EMBEDDINGS_MODEL",),
        "openrouter": ("OPENROUTER_API_KEY",),
        "openai": ("OPENAI_API_KEY",),
    }[name]
    return any(env.str(n) for n in names)


def _remote(name: str, env: Env, chat: ProviderSettings, chosen_by: str) -> EmbeddingsSettings:
    # str.removesuffix(x, ...): mypy reads Env.url's ``-> str`` as the Env.str method
    if name == "ollama":
        base = str.removesuffix(env.url("OLLAMA_ENDPOINT", "http://localhost:11434"), "/api/chat")
        endpoint = env.url("OLLAMA_EMBEDDINGS_ENDPOINT", base + "/api/embed")
        model = env.str("OLLAMA_EMBEDDINGS_MODEL", "nomic-embed-text")
    elif name == "llamacpp":
        base = env.url("LLAMACPP_ENDPOINT", "http://localhost:8080")
        endpoint = env.url("LLAMACPP_EMBEDDINGS_ENDPOINT",
                           str.removesuffix(base, "/chat/completions") + "/embeddings")
        model = ""  # llama-server serves the model it was started with
    elif name == "openrouter":
        raw = env.url("OPENROUTER_ENDPOINT", "https://openrouter.ai/api/v1/chat/completions")
        endpoint = sibling_embeddings_url(raw, "/api/v1")
        model = env.str("OPENROUTER_EMBEDDINGS_MODEL", "openai/text-embedding-3-small")
    else:
        raw = env.url("OPENAI_ENDPOINT", "https://api.openai.com/v1/chat/completions")
        endpoint = sibling_embeddings_url(raw, "/v1")
        model = env.str("OPENAI_EMBEDDINGS_MODEL", "text-embedding-3-small")
    key = chat.api_key
    if name in ("openrouter", "openai") and not key:
        raise SettingsError(f"{name.upper()}_API_KEY is required for embeddings from {name} "
                            f"(chosen by {chosen_by})")
    return EmbeddingsSettings(
        provider=name, model=model or "", endpoint=endpoint, api_key=key,
        organization=chat.organization, read_timeout_s=chat.read_timeout_s, chosen_by=chosen_by)


def sibling_embeddings_url(endpoint: str, version_path: str) -> str:
    """The embeddings URL next to a chat-completions URL, or under a base URL.

    ``https://host/v1/chat/completions`` and ``https://host/v1`` give ``https://host/v1/embeddings``;
    a bare ``https://host`` gets ``version_path`` first.
    """
    if endpoint.endswith("/chat/completions"):
        return endpoint.removesuffix("/chat/completions") + "/embeddings"
    if endpoint.endswith("/embeddings"):
        return endpoint
    if endpoint.endswith(version_path):
        return endpoint + "/embeddings"
    return endpoint + version_path + "/embeddings"


def _device(env: Env) -> str:
    device = (env.str("LOCAL_EMBEDDINGS_DEVICE", "cpu") or "cpu").lower()
    if not _DEVICE.match(device):
        raise SettingsError(f"LOCAL_EMBEDDINGS_DEVICE must be a torch device such as cpu, cuda, "
                            f"cuda:1 or mps, got {device!r}")
    return device
