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
