"""The output-limit table and what providers teach it."""

from __future__ import annotations

import pytest

from lynkr.config.output_limits import OutputLimits, output_limit


@pytest.mark.parametrize(("model", "limit"), [
    ("gpt-5.5", 128_000), ("openai/gpt-4o-mini", 16_384), ("claude-sonnet-4-5", 64_000),
    ("us.anthropic.claude-opus-4-1-20250805-v1:0", 32_000), ("claude-opus-4-5", 64_000),
    ("deepseek-reasoner", 65_536), ("Qwen3-Coder-480B", 65_536), ("qwen2.5-coder:7b", None),
    ("fake-model", None),
])
def test_table(model: str, limit: int | None) -> None:
    assert output_limit(model) == limit


def test_what_a_provider_published_comes_first() -> None:
    limits = OutputLimits()
    assert limits("gpt-5.5") == 128_000 and limits("vendor/odd") is None
    limits.learn({"vendor/odd": 4_000, "gpt-5.5": 64_000})
    assert limits("vendor/odd") == 4_000 and limits("gpt-5.5") == 64_000
