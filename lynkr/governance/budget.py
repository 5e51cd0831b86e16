"""Budgets in calendar windows (UTC), in tokens or US dollars: what window a moment falls in,
when it resets, and whether a request may start.

A budget is checked only when a request starts: a request that starts with budget left runs
to its end (a stream in flight is never cut), and its reported usage is added afterwards, so
the last request of a window may take the total past the budget. Times are wall-clock seconds
since the epoch; the windows are UTC days or calendar months.
"""

from __future__ import annotations

import datetime as dt
import functools

import attrs

from lynkr.ports import Spend

WINDOWS = ("day", "month")


DAY = 86_400


def window_start(now: float, window: str) -> float:
    """The start of the UTC day or calendar month ``now`` falls in (POSIX days are 86,400 s)."""
    day = now - now % DAY
    return day if window == "day" else _month_start(day)


@functools.lru_cache(maxsize=64)
def _month_start(day: float) -> float:
    at = dt.datetime.fromtimestamp(day, dt.UTC)
    return at.replace(day=1).timestamp()


def window_end(now: float, window: str) -> float:
    start = dt.datetime.fromtimestamp(window_start(now, window), dt.UTC)
    if window == "day":
        return (start + dt.timedelta(days=1)).timestamp()
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month).timestamp()


@attrs.frozen
class Budget:
    """What one key or one session may spend per window: tokens, dollars, or both."""

    owner: str  # how the message names it: "key 'alice'", "session 'abc' of key 'alice'"
    window: str = "month"  # "day" or "month"
    tokens: int | None = None
    usd: float | None = None


@attrs.frozen
class BudgetVerdict:
    allowed: bool
    resets_at: float = 0.0  # wall-clock seconds (set when not allowed)
    message: str = ""  # why not, when not allowed


ALLOWED = BudgetVerdict(True)


def check_budget(budget: Budget, spent: Spend, now: float) -> BudgetVerdict:
    """Whether a request may start with ``spent`` used of ``budget`` in the current window."""
    if budget.tokens is not None and spent.tokens >= budget.tokens:
        kind, used = "token budget", f"{spent.tokens} of {budget.tokens} tokens"
    elif budget.usd is not None and spent.usd >= budget.usd:
        kind, used = "budget", f"${spent.usd:.4f} of ${budget.usd:g}"
    else:
        return ALLOWED
    resets = window_end(now, budget.window)
    per = "a day" if budget.window == "day" else "a month"
    when = dt.datetime.fromtimestamp(resets, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return BudgetVerdict(False, resets, f"{kind} of {budget.owner} is spent: {used} {per}; it "
                                        f"resets at {when}")
