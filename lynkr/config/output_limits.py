"""How many tokens each known model can write in one answer: a small table of output limits.

Used when a client sets no limit (Codex never does; llm and aider often do not): the routed
model then gets its own output limit instead of a fixed one, and a client limit above it is
lowered to it. What a provider says of its own models (OpenRouter's model list gives each
one's ``max_completion_tokens``), learned at start-up, comes before the table. Models are
matched by name, shell-style, case-insensitive, with any vendor prefix (``openai/``,
``anthropic.``, ``us.anthropic.``) ignored; the first match wins. An
unknown model gets None: its server's own default applies (OpenAI-compatible servers and
Ollama write until the context is full), and the provider's configured cap, if any.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

KNOWN: tuple[tuple[str, int], ...] = (
    ("claude-3-haiku*", 4_096),
    ("claude-3-opus*", 4_096),
    ("claude-3-5-*", 8_192),
    ("claude-3-7-sonnet*", 64_000),
    ("claude-opus-4-5*", 64_000),
    ("claude-opus-4*", 32_000),
    ("claude-sonnet-4*", 64_000),
    ("claude-haiku-4*", 64_000),
    ("*claude*", 32_000),
    ("gpt-5*", 128_000),
    ("gpt-4.1*", 32_768),
    ("gpt-4o-mini*", 16_384),
    ("gpt-4o*", 16_384),
    ("gpt-4-turbo*", 4_096),
    ("gpt-4", 8_192),
    ("gpt-3.5*", 4_096),
    ("o1-mini*", 65_536),
    ("o1*", 100_000),
    ("o3*", 100_000),
    ("o4*", 100_000),
    ("gpt-oss*", 131_072),
    ("gemini-2.5*", 65_536),
    ("gemini-*", 8_192),
    ("deepseek-reasoner*", 65_536),
    ("deepseek-chat*", 8_192),
    ("deepseek-r1*", 32_768),
    ("kimi-k2*", 32_768),
    ("glm-4.5*", 98_304),
    ("glm-4.6*", 131_072),
    ("qwen3-coder*", 65_536),
    ("qwen3*", 32_768),
    ("codestral*", 32_768),
)


def output_limit(model: str) -> int | None:
    """The most tokens ``model`` can write in one answer, when it is a known one."""
    name = model.lower().rsplit("/", 1)[-1]
    name = name.rsplit("anthropic.", 1)[-1]
    for pattern, limit in KNOWN:
        if fnmatchcase(name, pattern):
            return limit
    return None


class OutputLimits:
    """``output_limit`` with what the providers' model lists said, learned once at start-up
    (exact model ids; the table above for the rest). The port stages read the limit through."""

    def __init__(self) -> None:
        self._learned: dict[str, int] = {}

    def learn(self, limits: Mapping[str, int]) -> None:
        self._learned.update(limits)

    def __call__(self, model: str) -> int | None:
        return self._learned.get(model) or output_limit(model)
