"""Opening the database: WAL, a busy timeout, and the schema migrations, in order.

Each migration is a statement list applied once; ``PRAGMA user_version`` records how many ran.
Add a migration by appending to ``MIGRATIONS``; never edit one that shipped.
"""

from __future__ import annotations

import time
from pathlib import Path

import apsw

BUSY_TIMEOUT_MS = 5000

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        model TEXT NOT NULL,
        conversation BLOB NOT NULL
    );
    CREATE INDEX responses_created_at ON responses (created_at);
    """,
    # stored conversations belong to a caller; rows from before have no owner (unreachable)
    """
    ALTER TABLE responses ADD COLUMN owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE responses ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX responses_owner ON responses (owner, created_at);
    """,
)


def open_db(path: str | Path, migrations: tuple[str, ...] = MIGRATIONS) -> apsw.Connection:
    """A connection to ``path`` with ``migrations`` applied (each file has its own list)."""
    target = Path(path)
    if str(path) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    connection = apsw.Connection(str(target))
    connection.setbusytimeout(BUSY_TIMEOUT_MS)
    _use_wal(connection)
    connection.execute("PRAGMA synchronous=NORMAL")
    migrate(connection, migrations)
    return connection


def migrate(connection: apsw.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> None:
    """The migrations the file lacks, in one write transaction: several processes opening a
    new file at once (``lynkr start --workers N``) take turns, and each reads the version
    only once it holds the lock, so none runs a migration another has run."""
    if _user_version(connection) >= len(migrations):
        return  # nothing to do: no write lock taken
    connection.execute("BEGIN IMMEDIATE")  # waits (busy timeout) while another migrates
    try:
        version = _user_version(connection)
        for number, script in enumerate(migrations[version:], start=version + 1):
            connection.execute(script)
            connection.execute(f"PRAGMA user_version = {number}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _use_wal(connection: apsw.Connection) -> None:
    """Switch to WAL. Several processes opening a new file at once race for the switch, and
    SQLite may answer SQLITE_BUSY to it at once, without waiting out the busy timeout: so the
    switch is tried again, for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except apsw.BusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def _user_version(connection: apsw.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    assert row is not None  # a PRAGMA always answers one row
    return int(row[0])
