"""The key database on apsw: its own file (``LYNKR_KEYS_DB_PATH``), its own migrations.

Synchronous and small: ``lynkr keys`` writes it, the server reads one row by hash per request
(an index lookup, microseconds), so a revoked key stops working on its next request.
"""

from __future__ import annotations

from pathlib import Path

import apsw

from lynkr.auth.keys import SHOWN, ApiKey, key_hash, new_key, same_hash
from lynkr.auth.ledger import SqliteLedger
from lynkr.storage.sqlite import open_db

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        shown TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL,
        rpm INTEGER,
        tpm INTEGER,
        budget_tokens INTEGER
    );
    CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
    """,
    """
    ALTER TABLE api_keys ADD COLUMN budget_window TEXT NOT NULL DEFAULT 'month';
    CREATE TABLE key_usage (
        name TEXT NOT NULL,
        day_start REAL NOT NULL,
        tokens INTEGER NOT NULL,
        PRIMARY KEY (name, day_start)
    );
    """,
    # the usage ledger (auth/ledger.py): per key, session, model and day, tokens by kind and
    # cost; the token totals booked before are kept (no model, no kinds); money budgets
    """
    ALTER TABLE api_keys ADD COLUMN budget_usd REAL;
    CREATE TABLE usage (
        key TEXT NOT NULL,
        day_start REAL NOT NULL,
        session TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (key, day_start, session, model)
    );
    CREATE INDEX usage_session ON usage (session, day_start);
    INSERT INTO usage (key, day_start, session, model, tokens)
        SELECT name, day_start, '', '', tokens FROM key_usage;
    DROP TABLE key_usage;
    """,
)
COLUMNS = ("name, key_hash, shown, created_at, revoked_at, rpm, tpm, budget_tokens, "
           "budget_window, budget_usd")


class KeyExists(ValueError):
    """An active key already has that name."""


class KeyStore:
    def __init__(self, path: str | Path) -> None:
        self.db: apsw.Connection = open_db(path, MIGRATIONS)

    @property
    def ledger(self) -> SqliteLedger:
        """The usage ledger kept in the same file."""
        return SqliteLedger(self.db)

    def close(self) -> None:
        self.db.close()

    def create(self, name: str, now: float, rpm: int | None = None, tpm: int | None = None,
               budget_tokens: int | None = None, budget_window: str = "month",
               budget_usd: float | None = None) -> tuple[str, ApiKey]:
        """A new key for ``name``: the key (shown once, never stored) and its record."""
        if not name.strip():
            raise ValueError("a key needs a name")
        key = new_key()
        record = ApiKey(name.strip(), key_hash(key), key[:SHOWN], now, None, rpm, tpm,
                        budget_tokens, budget_window, budget_usd)
        try:
            self.db.execute(f"INSERT INTO api_keys ({COLUMNS}) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (record.name, record.key_hash, record.shown, now, None, rpm, tpm,
                             budget_tokens, budget_window, budget_usd))
        except apsw.ConstraintError:
            raise KeyExists(f"an active key named {record.name!r} exists; revoke it "
                            "first") from None
        return key, record

    def revoke(self, name: str, now: float) -> bool:
        self.db.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at "
                        "IS NULL", (now, name))
        return self.db.changes() > 0

    def list(self) -> list[ApiKey]:
        return [ApiKey(*row) for row in self.db.execute(
            f"SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id")]

    def any_active(self) -> bool:
        return self.db.execute(
            "SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").fetchone() is not None

    def find(self, key: str) -> ApiKey | None:
        """The active key ``key`` is, or None (missing, wrong or revoked)."""
        digest = key_hash(key)
        row = self.db.execute(f"SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?",
                              (digest,)).fetchone()
        if row is None:
            return None
        found = ApiKey(*row)
        return found if same_hash(found.key_hash, digest) and found.active else None
