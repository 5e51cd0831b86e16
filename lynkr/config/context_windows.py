"""How many tokens each configured model can read: a small table of known windows.

Ollama's window is what we ask it for (``OLLAMA_NUM_CTX``); other models are matched by name
(shell-style, vendor prefix such as ``openai/`` ignored). An unknown model gets its vendor's
default from ``config.vendors`` (a cautious 32K for local servers, 200K for Claude backends,
128K for other hosted ones). Claude Code itself assumes 200K for every model.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from lynkr.config.providers import ProviderSettings
from lynkr.config.vendors import vendor

KNOWN: tuple[tuple[str, int], ...] = (
    ("*claude*", 200_000),
    ("gpt-4.1*", 1_047_576),
    ("gpt-5*", 400_000),
    ("gpt-4o*", 128_000),
    ("gpt-4-turbo*", 128_000),
    ("gpt-4", 8_192),
    ("gpt-3.5*", 16_385),
    ("o1*", 200_000),
    ("o3*", 200_000),
    ("o4*", 200_000),
    ("gemini-*", 1_048_576),
    ("deepseek*", 128_000),
    ("qwen2.5-coder*", 32_768),
    ("qwen3*", 40_960),
    ("llama3.1*", 131_072),
    ("llama-3.1*", 131_072),
    ("mistral*", 32_768),
    ("codestral*", 256_000),
)


def context_window(provider: ProviderSettings) -> int:
    """The context window, in tokens, of ``provider``'s configured model."""
    if provider.name == "ollama" and provider.num_ctx:
        return provider.num_ctx
    model = provider.model.lower().rsplit("/", 1)[-1]
    for pattern, window in KNOWN:
        if fnmatchcase(model, pattern):
            return window
    return vendor(provider.name).context_window
