"""What a request cost, from an editable price table (config/prices.yaml), and what routing
it to a cheaper provider saved against the reference model."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import attrs
import yaml

from lynkr.model.events import Usage

PER = 1_000_000


@attrs.frozen
class Price:
    input: float = 0.0
    output: float = 0.0
    cache_read: float | None = None  # None: same as input
    cache_write: float | None = None  # None: same as input (Anthropic's writes cost 1.25x)

    def of(self, usage: Usage) -> float:
        """US dollars: cache reads at the cache-read rate, cache writes at theirs."""
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        return (usage.input_tokens * self.input + usage.cache_creation_input_tokens * write
                + usage.cache_read_input_tokens * read + usage.output_tokens * self.output
                ) / PER


@attrs.frozen
class PriceTable:
    providers: Mapping[str, tuple[tuple[str, Price], ...]]
    reference: Price

    def price(self, provider: str, model: str) -> Price | None:
        for pattern, price in self.providers.get(provider, ()):
            if fnmatchcase(model, pattern):
                return price
        return None

    def cost(self, provider: str, model: str, usage: Usage) -> tuple[float | None, float]:
        """(this request's cost or None if unpriced, the saving against the reference)."""
        price = self.price(provider, model)
        if price is None:
            return None, 0.0
        spent = price.of(usage)
        return spent, max(self.reference.of(usage) - spent, 0.0)


def _price(raw: Mapping[str, Any]) -> Price:
    return Price(float(raw.get("input", 0)), float(raw.get("output", 0)),
                 _rate(raw, "cache_read"), _rate(raw, "cache_write"))


def _rate(raw: Mapping[str, Any], name: str) -> float | None:
    return None if raw.get(name) is None else float(raw[name])


def load_prices(path: str | Path) -> PriceTable:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    providers = {name: tuple((pattern, _price(p)) for pattern, p in models.items())
                 for name, models in (data.get("providers") or {}).items()}
    return PriceTable(providers, _price(data.get("reference") or {}))
