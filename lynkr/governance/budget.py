"""Token budgets per key, in calendar windows (UTC): what window a moment falls in, when it
resets, and whether a request may start.

A budget is checked only when a request starts: a request that starts with budget left runs
to its end (a stream in flight is never cut), and its reported tokens are added afterwards, so
the last request of a window may take the total past the budget. Times are wall-clock seconds
since the epoch; the windows are UTC days or calendar months.
"""

from __future__ import annotations

import datetime as dt

import attrs

WINDOWS = ("day", "month")


def window_start(now: float, window: str) -> float:
    at = dt.datetime.fromtimestamp(now, dt.UTC)
    start = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "month":
        start = start.replace(day=1)
    return start.timestamp()


def window_end(now: float, window: str) -> float:
    start = dt.datetime.fromtimestamp(window_start(now, window), dt.UTC)
    if window == "day":
        return (start + dt.timedelta(days=1)).timestamp()
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month).timestamp()


@attrs.frozen
class BudgetVerdict:
    allowed: bool
    used: int
    budget: int
    resets_at: float  # wall-clock seconds

    def message(self, name: str, window: str) -> str:
        when = dt.datetime.fromtimestamp(self.resets_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        per = "a day" if window == "day" else "a month"
        return (f"token budget of key {name!r} is spent: {self.used} of {self.budget} tokens "
                f"{per}; it resets at {when}")


def check_budget(used: int, budget: int, now: float, window: str) -> BudgetVerdict:
    return BudgetVerdict(used < budget, used, budget, window_end(now, window))
