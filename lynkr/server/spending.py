"""What requests spend, and whether the next one may start: usage booked to the ledger (per
key, session and model, priced from ``config/prices.yaml``) and the budgets of the key and of
the session checked before a request starts.

A budget never cuts an answer: it is checked only at the start, and the usage the upstream
reports is booked as the answer goes out (``UsageTap``), before its last bytes, so a client
that sends its next request the moment it has read them is judged on it. Cached input is
priced at the model's cache-read rate and cache writes at their rate (``Price.of``). A model
with no price costs nothing toward a money budget; it is logged once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Literal

from prometheus_client import Counter

from lynkr.auth.keys import ApiKey
from lynkr.config.access import AccessSettings
from lynkr.governance.budget import Budget, check_budget, window_start
from lynkr.model.errors import BudgetSpent
from lynkr.model.events import Event, MessageDelta, Usage
from lynkr.model.response import Response
from lynkr.observability.cost import Price, PriceTable
from lynkr.observability.metrics import Metrics
from lynkr.ports import UsageEntry, UsageLedger

log = logging.getLogger("lynkr.auth")
SESSION_ID_LIMIT = 200  # characters of a session id kept (a longer one is cut)
NOTHING = Usage()


class Spending:
    """The ledger, the price table and the session budget, with their metrics."""

    def __init__(
        self,
        ledger: UsageLedger,
        prices: PriceTable | None,
        config: AccessSettings,
        metrics: Metrics,
    ) -> None:
        self.ledger, self.prices, self.config = ledger, prices, config
        self.prices_by_model: dict[tuple[str, str], Price | Literal[False] | None] = {}
        registry = metrics.registry
        self.tokens = Counter(
            "lynkr_key_tokens_total",
            "Tokens the upstream reported, per key",
            ["key"],
            registry=registry,
        )
        self.usd = Counter(
            "lynkr_key_cost_usd_total",
            "What answers cost per key, in US dollars (config/prices.yaml)",
            ["key"],
            registry=registry,
        )
        self.refusals = Counter(
            "lynkr_budget_refusals_total",
            "Requests refused because a budget was spent",
            ["scope"],
            registry=registry,
        )

    def budgets(self, key: ApiKey | None, session: str | None) -> list[tuple[Budget, str | None]]:
        """The budgets a request is held to, each with the session it sums (None: the key)."""
        out: list[tuple[Budget, str | None]] = []
        if key is not None and (key.budget_tokens is not None or key.budget_usd is not None):
            out.append(
                (
                    Budget(
                        f"key {key.name!r}", key.budget_window, key.budget_tokens, key.budget_usd
                    ),
                    None,
                )
            )
        config = self.config
        if session and config.session_budget:
            owner = f"session {session!r}" + (f" of key {key.name!r}" if key else "")
            out.append(
                (
                    Budget(
                        owner,
                        config.session_budget_window,
                        config.session_budget_tokens,
                        config.session_budget_usd,
                    ),
                    session,
                )
            )
        return out

    async def load(self, key: ApiKey | None, session: str | None, now: float) -> None:
        """The sums ``refusal`` reads, brought close (a shared ledger asks Redis once)."""
        held = self.budgets(key, session_id(session))
        if held:
            sessions = [summed for _, summed in held if summed]
            await self.ledger.load(key.name if key is not None else "",
                                   sessions[0] if sessions else None, now)

    def refusal(self, key: ApiKey | None, session: str | None, now: float) -> BudgetSpent | None:
        """A 429 when a budget of the key or of the session is spent for this window."""
        user = key.name if key is not None else ""
        for budget, summed in self.budgets(key, session_id(session)):
            spent = self.ledger.spent(user, window_start(now, budget.window), summed)
            verdict = check_budget(budget, spent, now)
            if not verdict.allowed:
                self.refusals.labels("session" if summed else "key").inc()
                return BudgetSpent(verdict.message, retry_after=math.ceil(verdict.resets_at - now))
        return None

    def cost(self, provider: str, model: str, usage: Usage) -> float:
        found = self.prices_by_model.get((provider, model), False)
        if found is False:  # looked up once per model (patterns are matched in order)
            found = self.prices.price(provider, model) if self.prices is not None else None
            self.prices_by_model[(provider, model)] = found
            if found is None:
                log.warning(
                    "no price for a model: its usage counts nothing toward money budgets",
                    extra={"provider": provider, "model": model},
                )
        return 0.0 if found is None else found.of(usage)


def session_id(raw: str | None) -> str | None:
    return raw[:SESSION_ID_LIMIT] if raw else None


class UsageTap:
    """Books the usage an answer reports as it goes out: to the key's tokens-per-minute
    bucket and to the ledger. A later usage report of the same answer books only what it
    adds."""

    wants_result = False

    def __init__(
        self,
        spending: Spending,
        user: str,
        session: str | None,
        provider: str,
        model: str,
        charge: Callable[[int], None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.spending, self.charge, self.wall = spending, charge, wall
        self.user, self.session = user, session_id(session) or ""
        self.provider, self.model = provider, model
        self.booked = NOTHING
        self.label = user or "-"

    def observe(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, MessageDelta):
                self._book(event.usage)

    def _book(self, usage: Usage) -> None:
        was = self.booked
        more = Usage(
            max(0, usage.input_tokens - was.input_tokens),
            max(0, usage.output_tokens - was.output_tokens),
            max(0, usage.cache_creation_input_tokens - was.cache_creation_input_tokens),
            max(0, usage.cache_read_input_tokens - was.cache_read_input_tokens),
        )
        added = (
            more.input_tokens
            + more.output_tokens
            + more.cache_creation_input_tokens
            + more.cache_read_input_tokens
        )
        if not added:
            return
        self.booked = Usage(
            was.input_tokens + more.input_tokens,
            was.output_tokens + more.output_tokens,
            was.cache_creation_input_tokens + more.cache_creation_input_tokens,
            was.cache_read_input_tokens + more.cache_read_input_tokens,
        )
        if self.charge is not None:  # the key's tokens-per-minute bucket
            self.charge(added)
        spending = self.spending
        cost = spending.cost(self.provider, self.model, more)
        spending.ledger.record(
            UsageEntry(
                self.user,
                self.session,
                f"{self.provider}/{self.model}",
                more,
                cost,
                self.wall(),
                1 if was == NOTHING else 0,
            )
        )
        spending.tokens.labels(self.label).inc(added)
        spending.usd.labels(self.label).inc(cost)

    def completed(self, response: Response) -> None:
        return None
