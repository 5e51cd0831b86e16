"""Budget windows in UTC and the verdict a request gets when it starts."""

from __future__ import annotations

import datetime as dt

import pytest

from lynkr.governance.budget import Budget, check_budget, window_end, window_start
from lynkr.ports import Spend


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(("now", "window", "start", "end"), [
    ("2026-12-02T07:48:00", "day", "2026-12-02T00:00:00", "2026-12-03T00:00:00"),
    ("2026-12-02T07:48:00", "month", "2026-12-01T00:00:00", "2027-01-01T00:00:00"),
    ("2026-02-28T23:59:59", "month", "2026-02-01T00:00:00", "2026-03-01T00:00:00"),
    ("2026-12-31T23:59:59", "day", "2026-12-31T00:00:00", "2027-01-01T00:00:00"),
    ("2024-02-29T12:00:00", "month", "2024-02-01T00:00:00", "2024-03-01T00:00:00"),
    ("2027-01-01T00:00:00", "day", "2027-01-01T00:00:00", "2027-01-02T00:00:00"),
    ("2027-01-01T00:00:00", "month", "2027-01-01T00:00:00", "2027-02-01T00:00:00"),
])
def test_windows(now: str, window: str, start: str, end: str) -> None:
    assert window_start(at(now), window) == at(start)
    assert window_end(at(now), window) == at(end)


NOW = at("2026-12-02T07:48:00")
ALICE_TOKENS = Budget("key 'alice'", "day", tokens=1000)
ALICE_USD = Budget("key 'alice'", "month", usd=5.0)
SESSION = Budget("session 's1' of key 'alice'", "day", tokens=1000, usd=0.5)


@pytest.mark.parametrize(("budget", "spent", "message"), [
    (ALICE_TOKENS, Spend(999, 100.0), None),
    (ALICE_TOKENS, Spend(1000), "token budget of key 'alice' is spent: 1000 of 1000 tokens a "
                                "day; it resets at 2026-12-03T00:00:00Z"),
    (ALICE_USD, Spend(10**9, 4.99), None),
    (ALICE_USD, Spend(0, 5.0), "budget of key 'alice' is spent: $5.0000 of $5 a month; it "
                               "resets at 2027-01-01T00:00:00Z"),
    (SESSION, Spend(10, 0.51), "budget of session 's1' of key 'alice' is spent: $0.5100 of "
                               "$0.5 a day; it resets at 2026-12-03T00:00:00Z"),
    (SESSION, Spend(1001, 0.51), "token budget of session 's1' of key 'alice' is spent: 1001 "
                                 "of 1000 tokens a day; it resets at 2026-12-03T00:00:00Z"),
    (Budget("key 'bob'"), Spend(10**9, 10**6), None),  # no limits: never spent
])
def test_a_request_starts_while_anything_is_left(budget: Budget, spent: Spend,
                                                 message: str | None) -> None:
    verdict = check_budget(budget, spent, NOW)
    assert verdict.allowed == (message is None)
    assert verdict.message == (message or "")
    if message is not None:
        assert verdict.resets_at == window_end(NOW, budget.window)
