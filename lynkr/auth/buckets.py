"""Rate-limit buckets in a SQLite file, for several processes of one host without Redis
(``lynkr start --workers N``): the ``RateLimiter`` port.

Assumes: every process opens the same file (``limits.db`` beside the key database); the bucket
rules are ``governance/limits.py``'s (``Bucket``), applied to a row instead of a dict entry.
Guarantees: each admission reads, refills, takes and writes a key's buckets in one
``BEGIN IMMEDIATE`` transaction, so the processes take turns and admit no more together than
one process would. Time is the wall clock (``time.time()``), the one clock every process of a
host shares. A statement takes microseconds (an indexed row in WAL mode); a lock held by
another process is waited for up to the busy timeout.
Never: loses a charge to a concurrent admission (both are transactions on the same row).
"""

from __future__ import annotations

import time
from pathlib import Path

import apsw

from lynkr.governance.limits import Bucket, window
from lynkr.model.limits import Decision
from lynkr.storage.sqlite import open_db

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE buckets (
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        lim INTEGER NOT NULL,
        level REAL NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (name, kind)
    );
    """,
)


def limits_path(keys_db_path: str) -> Path:
    return Path(keys_db_path).with_name("limits.db")


class SqliteLimiter:
    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._db: apsw.Connection | None = None

    @property
    def db(self) -> apsw.Connection:
        """Opened at the first limited request (keys may be off: then never)."""
        if self._db is None:
            self._db = open_db(self.path, MIGRATIONS)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def _bucket(self, key: str, kind: str, limit: int | None, now: float) -> Bucket | None:
        if limit is None:
            self.db.execute("DELETE FROM buckets WHERE name = ? AND kind = ?", (key, kind))
            return None
        row = self.db.execute(
            "SELECT lim, level, at FROM buckets WHERE name = ? AND kind = ?", (key, kind)
        ).fetchone()
        bucket = (
            Bucket(limit, float(limit), now)
            if row is None or row[0] != limit
            else Bucket(int(row[0]), float(row[1]), float(row[2]))
        )
        bucket.refill(now)
        return bucket

    def _save(self, key: str, kind: str, bucket: Bucket | None) -> None:
        if bucket is not None:
            self.db.execute(
                "INSERT OR REPLACE INTO buckets (name, kind, lim, level, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, kind, bucket.limit, bucket.level, bucket.at),
            )

    def take(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            requests = self._bucket(key, "requests", rpm, now)
            tokens = self._bucket(key, "tokens", tpm, now)
            if requests is not None and requests.level < 1:
                decision = Decision(
                    False, requests.wait(1), "requests", window(requests), window(tokens)
                )
            elif tokens is not None and tokens.level <= 0:
                decision = Decision(
                    False, max(tokens.wait(0), 0.001), "tokens", window(requests), window(tokens)
                )
            else:
                if requests is not None:
                    requests.level -= 1
                decision = Decision(True, 0.0, None, window(requests), window(tokens))
            self._save(key, "requests", requests)
            self._save(key, "tokens", tokens)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return decision

    async def admit(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision:
        return self.take(key, rpm, tpm, time.time())

    def charge(self, key: str, tokens: int, now: float) -> None:
        if not tokens:
            return
        wall = time.time()
        with self.db:
            row = self.db.execute(
                "SELECT lim, level, at FROM buckets WHERE name = ? AND kind = 'tokens'", (key,)
            ).fetchone()
            if row is None:
                return
            bucket = Bucket(int(row[0]), float(row[1]), float(row[2]))
            bucket.refill(wall)
            bucket.level -= tokens
            self._save(key, "tokens", bucket)
