"""Request cost and routing savings from the shipped price table."""

from pathlib import Path

import pytest

from lynkr.model.events import Usage
from lynkr.observability.cost import load_prices

PRICES = load_prices(Path(__file__).resolve().parents[3] / "config" / "prices.yaml")


def test_a_local_request_costs_nothing_and_saves_the_reference_price() -> None:
    spent, saved = PRICES.cost("ollama", "qwen2.5-coder:7b", Usage(1_000_000, 100_000))
    assert spent == 0
    assert saved == pytest.approx(3.00 + 1.50)


def test_first_matching_pattern_wins_and_cache_reads_are_cheaper() -> None:
    spent, _ = PRICES.cost("openai", "gpt-4o-mini-2024", Usage(1_000_000, 0))
    assert spent == pytest.approx(0.15)
    cached, _ = PRICES.cost("openai", "gpt-4o", Usage(0, 0, 0, 1_000_000))
    assert cached == pytest.approx(1.25)


def test_an_unpriced_model_reports_no_cost() -> None:
    assert PRICES.cost("nobody", "x", Usage(10, 10)) == (None, 0.0)


@pytest.mark.parametrize(("model", "usage", "dollars"), [
    # a million tokens of each kind on Claude Sonnet: input 3, output 15, cache read 0.30,
    # cache write 3.75
    ("claude-sonnet-4-5", Usage(1_000_000, 0), 3.00),
    ("claude-sonnet-4-5", Usage(0, 1_000_000), 15.00),
    ("claude-sonnet-4-5", Usage(0, 0, cache_read_input_tokens=1_000_000), 0.30),
    ("claude-sonnet-4-5", Usage(0, 0, cache_creation_input_tokens=1_000_000), 3.75),
    ("claude-haiku-4-5", Usage(200_000, 10_000, 400_000, 2_000_000), 0.2 + 0.05 + 0.5 + 0.2),
])
def test_cache_reads_and_writes_are_priced_at_their_own_rates(model: str, usage: Usage,
                                                              dollars: float) -> None:
    spent, _ = PRICES.cost("anthropic", model, usage)
    assert spent == pytest.approx(dollars)


def test_cache_writes_cost_the_input_rate_when_the_table_gives_none() -> None:
    spent, _ = PRICES.cost("openai", "gpt-4o", Usage(0, 0, cache_creation_input_tokens=10**6))
    assert spent == pytest.approx(2.50)
