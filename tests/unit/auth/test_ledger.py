"""The usage ledger on real SQLite: booked per key, session, model and day, summed for
budgets and reported per key, model and day; the schema migration keeps the token totals
booked before."""

from __future__ import annotations

from pathlib import Path

import apsw

from lynkr.auth.store import MIGRATIONS, KeyStore
from lynkr.model.events import Usage
from lynkr.ports import Spend, UsageEntry, UsageRow
from lynkr.storage.sqlite import migrate

DAY = 86_400.0


def entry(
    key: str,
    day: int,
    session: str = "",
    model: str = "openai/gpt-4o",
    usd: float = 0.0,
    first: int = 1,
    **tokens: int,
) -> UsageEntry:
    return UsageEntry(key, session, model, Usage(**tokens), usd, day * DAY + 3600.0, first)


def test_spend_is_summed_per_key_and_per_session_from_a_day_on(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    ledger = store.ledger
    ledger.record(entry("alice", 10, "s1", input_tokens=100, output_tokens=10, usd=0.5))
    ledger.record(entry("alice", 10, "s1", first=0, output_tokens=5, usd=0.25))
    ledger.record(entry("alice", 11, "s2", cache_read_input_tokens=1000, usd=0.125))
    ledger.record(entry("alice", 11, model="anthropic/claude", input_tokens=7))
    ledger.record(entry("bob", 11, "s1", input_tokens=1000, usd=9.0))
    assert ledger.spent("alice", 10 * DAY) == Spend(1122, 0.875)
    assert ledger.spent("alice", 11 * DAY) == Spend(1007, 0.125)
    assert ledger.spent("alice", 10 * DAY, "s1") == Spend(115, 0.75)
    assert ledger.spent("alice", 0.0, "s3") == Spend()
    assert ledger.spent("carol", 0.0) == Spend()
    # the same session id under another key is that key's
    assert ledger.spent("bob", 0.0, "s1") == Spend(1000, 9.0)
    store.close()


def test_the_report_is_per_key_model_and_day(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    store.ledger.record(entry("alice", 10, "s1", input_tokens=100, output_tokens=10, usd=0.5))
    store.ledger.record(entry("alice", 10, "s2", cache_creation_input_tokens=20, usd=0.25))
    store.ledger.record(entry("alice", 10, "s2", first=0, output_tokens=1))
    store.ledger.record(entry("bob", 11, model="anthropic/claude", input_tokens=7))
    rows = store.ledger.report()
    assert rows == [
        UsageRow(
            "alice",
            "openai/gpt-4o",
            10 * DAY,
            2,
            Usage(100, 11, cache_creation_input_tokens=20),
            131,
            0.75,
        ),
        UsageRow("bob", "anthropic/claude", 11 * DAY, 1, Usage(7), 7, 0.0),
    ]
    assert store.ledger.report(11 * DAY) == rows[1:]
    store.close()


def test_the_migration_keeps_the_token_totals_booked_before(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    old = apsw.Connection(str(path))
    migrate(old, MIGRATIONS[:2])  # the schema as it shipped before the ledger
    old.execute(
        "INSERT INTO key_usage (name, day_start, tokens) VALUES ('alice', ?, 157)", (10 * DAY,)
    )
    old.close()
    store = KeyStore(path)
    assert store.ledger.spent("alice", 10 * DAY) == Spend(157, 0.0)
    store.ledger.record(entry("alice", 10, input_tokens=3))
    assert store.ledger.report() == [
        UsageRow("alice", "", 10 * DAY, 0, Usage(), 157, 0.0),
        UsageRow("alice", "openai/gpt-4o", 10 * DAY, 1, Usage(3), 3, 0.0),
    ]
    store.close()
