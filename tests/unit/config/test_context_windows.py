"""Known context windows of configured models."""

from __future__ import annotations

import pytest

from lynkr.config.context_windows import context_window
from lynkr.config.providers import ProviderSettings


@pytest.mark.parametrize(("name", "model", "num_ctx", "window"), [
    ("ollama", "qwen2.5-coder:7b", 65536, 65536),
    ("openai", "gpt-4o", 0, 128_000),
    ("openai", "gpt-4.1-mini", 0, 1_047_576),
    ("openrouter", "anthropic/claude-sonnet-4", 0, 200_000),
    ("databricks", "databricks-claude-sonnet-4", 0, 200_000),
    ("openrouter", "meta/llama3.1-70b", 0, 131_072),
    ("llamacpp", "default", 0, 32_768),
    ("lmstudio", "qwen2.5-coder-7b-instruct", 0, 32_768),
    ("openai", "some-new-model", 0, 128_000),
    ("anthropic", "", 0, 200_000),
    ("bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0", 0, 200_000),
])
def test_context_window(name: str, model: str, num_ctx: int, window: int) -> None:
    provider = ProviderSettings(name, "http://x", model, num_ctx=num_ctx)
    assert context_window(provider) == window
