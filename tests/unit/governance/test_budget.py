"""Budget windows in UTC and the verdict a request gets when it starts."""

from __future__ import annotations

import datetime as dt

import pytest

from lynkr.governance.budget import check_budget, window_end, window_start


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(("now", "window", "start", "end"), [
    ("2026-12-02T07:48:00", "day", "2026-12-02T00:00:00", "2026-12-03T00:00:00"),
    ("2026-12-02T07:48:00", "month", "2026-12-01T00:00:00", "2027-01-01T00:00:00"),
    ("2026-02-28T23:59:59", "month", "2026-02-01T00:00:00", "2026-03-01T00:00:00"),
    ("2026-12-31T23:59:59", "day", "2026-12-31T00:00:00", "2027-01-01T00:00:00"),
])
def test_windows(now: str, window: str, start: str, end: str) -> None:
    assert window_start(at(now), window) == at(start)
    assert window_end(at(now), window) == at(end)


def test_a_request_starts_while_anything_is_left() -> None:
    now = at("2026-12-02T07:48:00")
    assert check_budget(999, 1000, now, "day").allowed
    spent = check_budget(1000, 1000, now, "day")
    assert not spent.allowed and spent.resets_at == at("2026-12-03T00:00:00")
    message = spent.message("alice", "day")
    assert "alice" in message and "1000 of 1000 tokens a day" in message
    assert "2026-12-03T00:00:00Z" in message
