"""What stages and adapters may reach, as small Protocols and plain values.

Stages get state only through a ``Ports`` record built once at start-up; tests build their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, Protocol

import attrs

Family = Literal["openai", "ollama", "anthropic", "bedrock"]


@attrs.frozen
class ProviderInfo:
    """What the pipeline knows of a configured provider (no secrets, no clients)."""

    name: str  # "ollama", "openai", "openrouter", "llamacpp", "lmstudio", ...
    family: Family
    model: str  # default model sent upstream
    endpoint: str
    context_window: int = 200_000


class TokenCounter(Protocol):
    def __call__(self, text: str) -> int: ...


def estimate_tokens(text: str) -> int:
    """A calibrated-free estimate (about four characters a token) until a tokenizer port exists."""
    return (len(text) + 3) // 4


@attrs.frozen
class Ports:
    providers: Mapping[str, ProviderInfo]
    default_provider: str
    count_tokens: Callable[[str], int] = estimate_tokens
