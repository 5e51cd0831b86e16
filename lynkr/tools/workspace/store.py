"""The workspace tools' SQLite file (``WORKSPACE_DB_PATH``): test-run history and tasks.

Assumes: one store per process; rows belong to a workspace root (``root``), so two roots
sharing the file never see each other's tasks or runs.
Guarantees: WAL and migrations through ``lynkr.storage.sqlite.open_db``; every read and write
runs in a worker thread behind one ``CapacityLimiter``, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import apsw
import attrs
import trio

from lynkr.storage.sqlite import open_db

T = TypeVar("T")
STATUSES = ("todo", "in_progress", "blocked", "done", "cancelled")
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE test_runs (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL,
        started_at REAL NOT NULL,
        duration_ms INTEGER NOT NULL,
        command TEXT NOT NULL,
        exit_code INTEGER,
        status TEXT NOT NULL,
        passed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        tree TEXT NOT NULL,
        output_tail TEXT NOT NULL
    );
    CREATE INDEX test_runs_root ON test_runs (root, id);
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        root TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        tags TEXT NOT NULL DEFAULT '',
        linked_file TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX tasks_root ON tasks (root, status);
    """,
)
TASK_FIELDS = (
    "id",
    "title",
    "description",
    "status",
    "priority",
    "tags",
    "linked_file",
    "created_at",
    "updated_at",
)
RUN_FIELDS = (
    "id",
    "started_at",
    "duration_ms",
    "command",
    "exit_code",
    "status",
    "passed",
    "failed",
    "skipped",
    "tree",
    "output_tail",
)


@attrs.frozen
class RunRecord:
    started_at: float
    duration_ms: int
    command: str
    exit_code: int | None
    status: str  # passed, failed, timed out
    passed: int
    failed: int
    skipped: int
    tree: str  # fingerprint of the working tree the run saw ("" outside git)
    output_tail: str


class WorkspaceStore:
    def __init__(self, path: str | Path, root: str) -> None:
        self.path = path
        self.root = root
        self._db: apsw.Connection | None = None
        self._limiter = trio.CapacityLimiter(1)

    def _connection(self) -> apsw.Connection:
        if self._db is None:
            self._db = open_db(self.path, MIGRATIONS)
        return self._db

    async def _run(self, work: Callable[[apsw.Connection], T]) -> T:
        return await trio.to_thread.run_sync(
            lambda: work(self._connection()), limiter=self._limiter
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # test runs
    async def add_run(self, run: RunRecord) -> int:
        def write(db: apsw.Connection) -> int:
            with db:
                db.execute(
                    "INSERT INTO test_runs (root, started_at, duration_ms, command, exit_code,"
                    " status, passed, failed, skipped, tree, output_tail) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.root, *attrs.astuple(run)),
                )
            return db.last_insert_rowid()

        return await self._run(write)

    async def runs(self, limit: int) -> list[dict[str, Any]]:
        def read(db: apsw.Connection) -> list[dict[str, Any]]:
            rows = db.execute(
                f"SELECT {', '.join(RUN_FIELDS)} FROM test_runs WHERE root = ? "
                "ORDER BY id DESC LIMIT ?",
                (self.root, limit),
            )
            return [dict(zip(RUN_FIELDS, row, strict=True)) for row in rows]

        return await self._run(read)

    # tasks
    async def create_task(self, fields: dict[str, Any], now: float) -> dict[str, Any]:
        def write(db: apsw.Connection) -> dict[str, Any]:
            with db:
                db.execute(
                    "INSERT INTO tasks (root, title, description, status, priority, "
                    "tags, linked_file, created_at, updated_at) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.root,
                        fields["title"],
                        fields.get("description", ""),
                        fields.get("status", "todo"),
                        fields.get("priority", 0),
                        fields.get("tags", ""),
                        fields.get("linked_file", ""),
                        now,
                        now,
                    ),
                )
                task = _task(db, self.root, db.last_insert_rowid())
            assert task is not None
            return task

        return await self._run(write)

    async def task(self, task_id: int) -> dict[str, Any] | None:
        return await self._run(lambda db: _task(db, self.root, task_id))

    async def update_task(
        self, task_id: int, fields: dict[str, Any], now: float
    ) -> dict[str, Any] | None:
        """Set ``fields`` (names from TASK_FIELDS) on the task; None if there is none."""
        assignments = ", ".join(f"{name} = ?" for name in fields)

        def write(db: apsw.Connection) -> dict[str, Any] | None:
            with db:
                db.execute(
                    f"UPDATE tasks SET {assignments}, updated_at = ? WHERE id = ? AND root = ?",
                    (*fields.values(), now, task_id, self.root),
                )
                changed = db.changes()
            return _task(db, self.root, task_id) if changed else None

        return await self._run(write)

    async def delete_task(self, task_id: int) -> bool:
        def write(db: apsw.Connection) -> bool:
            with db:
                db.execute("DELETE FROM tasks WHERE id = ? AND root = ?", (task_id, self.root))
                changed = db.changes()
            return changed > 0

        return await self._run(write)

    async def tasks(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        def read(db: apsw.Connection) -> list[dict[str, Any]]:
            where, args = ("AND status = ?", (status,)) if status else ("", ())
            rows = db.execute(
                f"SELECT {', '.join(TASK_FIELDS)} FROM tasks WHERE root = ? "
                f"{where} ORDER BY priority DESC, id LIMIT ?",
                (self.root, *args, limit),
            )
            return [dict(zip(TASK_FIELDS, row, strict=True)) for row in rows]

        return await self._run(read)

    async def task_counts(self) -> dict[str, int]:
        def read(db: apsw.Connection) -> dict[str, int]:
            rows = db.execute(
                "SELECT status, COUNT(*) FROM tasks WHERE root = ? GROUP BY status ORDER BY status",
                (self.root,),
            )
            return {status: count for status, count in rows}

        return await self._run(read)


def _task(db: apsw.Connection, root: str, task_id: int) -> dict[str, Any] | None:
    row = db.execute(
        f"SELECT {', '.join(TASK_FIELDS)} FROM tasks WHERE id = ? AND root = ?", (task_id, root)
    ).fetchone()
    return None if row is None else dict(zip(TASK_FIELDS, row, strict=True))
