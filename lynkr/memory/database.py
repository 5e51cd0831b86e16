"""The memory database on apsw, synchronous: the store runs it in a worker thread, the
``lynkr memory`` command directly.

Every read and write names a ``Scope``; the SQL checks the user (and the workspace, or a global
memory) on every row it returns, besides the FTS5 scope tokens, so no query can reach another
user's memories. Times are the caller's (seconds since the epoch).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import apsw
import attrs

from lynkr.memory.query import scoped_match
from lynkr.memory.ranking import DAY
from lynkr.memory.schema import MIGRATIONS, global_token, scope_column, workspace_token
from lynkr.memory.secrets import secret_kind
from lynkr.model.memory import KINDS, Candidate, Memory, MemoryStats, Scope
from lynkr.storage.sqlite import open_db

COLUMNS = ("id, kind, text, importance, user, workspace, is_global, created_at, last_used_at, "
           "use_count, subject, session_id, request_id")
VISIBLE = "user = ? AND (workspace = ? OR is_global = 1)"


def _rows(cursor: apsw.Cursor) -> Any:
    """A query's rows as the schema types them (apsw's stubs only know SQLite's value types)."""
    return cursor.fetchall()


class SecretRefused(ValueError):
    """A memory that looks like it holds a secret; nothing was stored."""


@attrs.frozen
class PruneReport:
    expired: int  # unused for longer than the age limit
    over_count: int  # the least important, beyond the count limit


def _memory(row: Any) -> Memory:
    """A row of ``COLUMNS`` (SQLite's values, typed by the schema)."""
    (id_, kind, text, importance, user, workspace, is_global, created, used, uses, subject,
     session, request) = row
    return Memory(int(id_), kind, str(text), float(importance), str(user), str(workspace),
                  bool(is_global), float(created), float(used), int(uses), str(subject),
                  session, request)


def check_candidate(candidate: Candidate) -> None:
    if candidate.kind not in KINDS:
        raise ValueError(f"memory type must be one of {', '.join(KINDS)}, got {candidate.kind!r}")
    if not candidate.text.strip():
        raise ValueError("a memory needs some text")
    found = secret_kind(candidate.text)
    if found is not None:
        raise SecretRefused(f"not stored: the text looks like it holds a secret ({found})")


class MemoryDatabase:
    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.db: apsw.Connection = open_db(path, MIGRATIONS)

    def close(self) -> None:
        self.db.close()

    # writes

    def add(self, scope: Scope, candidate: Candidate, now: float, session_id: str | None = None,
            request_id: str | None = None) -> Memory:
        """Store ``candidate`` (or refresh the same text); a newer memory on the same subject
        replaces the older one. Raises ``SecretRefused`` or ``ValueError``, storing nothing."""
        return self.import_memory(scope, candidate, now, now, 0, session_id, request_id)

    def import_memory(self, scope: Scope, candidate: Candidate, created_at: float,
                      last_used_at: float, use_count: int = 0, session_id: str | None = None,
                      request_id: str | None = None) -> Memory:
        """``add`` with the times and use count given (``lynkr memory import``)."""
        check_candidate(candidate)
        text = " ".join(candidate.text.split())
        importance = min(1.0, max(0.0, candidate.importance))
        if candidate.is_global:  # one copy per user, whichever workspace it came from
            scope = Scope(scope.user, "")
        with self.db:
            if candidate.subject:
                self.db.execute(
                    "DELETE FROM memories WHERE user = ? AND workspace = ? AND subject = ? "
                    "AND text != ? AND created_at <= ?",
                    (scope.user, scope.workspace, candidate.subject, text, created_at))
            self.db.execute(
                "INSERT INTO memories (user, workspace, is_global, kind, text, subject, "
                "importance, session_id, request_id, created_at, last_used_at, use_count, scope) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user, workspace, text) DO UPDATE SET "
                "importance = max(importance, excluded.importance), "
                "last_used_at = max(last_used_at, excluded.last_used_at), "
                "is_global = excluded.is_global, scope = excluded.scope, kind = excluded.kind, "
                "subject = excluded.subject",
                (scope.user, scope.workspace, int(candidate.is_global), candidate.kind, text,
                 candidate.subject, importance, session_id, request_id, created_at,
                 last_used_at, use_count,
                 scope_column(scope.user, scope.workspace, candidate.is_global)))
            row = self.db.execute(f"SELECT {COLUMNS} FROM memories WHERE user = ? AND "
                                  f"workspace = ? AND text = ?",
                                  (scope.user, scope.workspace, text)).fetchone()
        assert row is not None  # written just above, in the same transaction
        return _memory(row)

    def forget(self, scope: Scope, memory_id: int) -> bool:
        with self.db:
            self.db.execute(f"DELETE FROM memories WHERE id = ? AND {VISIBLE}",
                            (memory_id, scope.user, scope.workspace))
            changed = self.db.changes()
        return changed > 0

    def forget_all(self, scope: Scope) -> int:
        """Every memory of the scope's workspace (global ones stay)."""
        with self.db:
            self.db.execute("DELETE FROM memories WHERE user = ? AND workspace = ? AND "
                            "is_global = 0", (scope.user, scope.workspace))
            changed = self.db.changes()
        return changed

    def touch(self, ids: Iterable[int], now: float) -> None:
        rows = [(now, i) for i in ids]
        if rows:
            with self.db:
                self.db.executemany("UPDATE memories SET last_used_at = ?, "
                                    "use_count = use_count + 1 WHERE id = ?", rows)

    def set_vectors(self, rows: Iterable[tuple[int, str, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO memory_vectors VALUES (?, ?, ?)", rows)

    def prune(self, now: float, max_age_days: float, max_count: int,
              half_life_days: float = 30.0) -> PruneReport:
        """Drop memories unused for ``max_age_days``; then, for each user over ``max_count``,
        the lowest by importance decayed since last use (the oldest first among equals)."""
        with self.db:
            self.db.execute("DELETE FROM memories WHERE last_used_at < ?",
                            (now - max_age_days * DAY,))
            expired = self.db.changes()
            over = 0
            for (user,) in self.db.execute(
                    "SELECT user FROM memories GROUP BY user HAVING count(*) > ?",
                    (max_count,)).fetchall():
                self.db.execute(
                    "DELETE FROM memories WHERE id IN (SELECT id FROM memories WHERE user = ? "
                    "ORDER BY importance * pow(0.5, (? - last_used_at) / ?) DESC, "
                    "created_at DESC, id DESC LIMIT -1 OFFSET ?)",  # all after the kept ones
                    (user, now, half_life_days * DAY, max_count))
                over += self.db.changes()
        return PruneReport(expired, over)

    # reads

    def has_memories(self, user: str) -> bool:
        """Whether ``user`` has any memory at all (in any workspace)."""
        return bool(list(self.db.execute("SELECT 1 FROM memories WHERE user = ? LIMIT 1",
                                         (user,))))

    def search(self, scope: Scope, words: Sequence[str], limit: int) -> list[int]:
        """Ids of the scope's memories matching any of ``words``, best bm25 first."""
        match = scoped_match(words, (workspace_token(scope.user, scope.workspace),
                                     global_token(scope.user)))
        if match is None:
            return []
        rows = self.db.execute(
            "SELECT m.id FROM memory_fts JOIN memories m ON m.id = memory_fts.rowid "
            "WHERE memory_fts MATCH ? AND m.user = ? AND (m.workspace = ? OR m.is_global = 1) "
            "ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT ?",
            (match, scope.user, scope.workspace, limit))
        return [row[0] for row in rows]

    def get(self, scope: Scope, ids: Iterable[int]) -> dict[int, Memory]:
        wanted = list(ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(f"SELECT {COLUMNS} FROM memories WHERE id IN ({marks}) AND "
                               f"{VISIBLE}", (*wanted, scope.user, scope.workspace))
        return {m.id: m for m in map(_memory, rows)}

    def vectors(self, scope: Scope, model: str) -> builtins.list[tuple[int, bytes]]:
        return _rows(self.db.execute(
            "SELECT v.id, v.vector FROM memory_vectors v JOIN memories m ON m.id = v.id "
            "WHERE v.model = ? AND m.user = ? AND (m.workspace = ? OR m.is_global = 1)",
            (model, scope.user, scope.workspace)))

    def unembedded(self, scope: Scope, model: str, limit: int = 1000
                   ) -> builtins.list[tuple[int, str]]:
        return _rows(self.db.execute(
            "SELECT m.id, m.text FROM memories m LEFT JOIN memory_vectors v ON v.id = m.id "
            "AND v.model = ? WHERE v.id IS NULL AND m.user = ? AND "
            "(m.workspace = ? OR m.is_global = 1) LIMIT ?",
            (model, scope.user, scope.workspace, limit)))

    def list(self, scope: Scope, limit: int = 50, offset: int = 0) -> list[Memory]:
        rows = self.db.execute(f"SELECT {COLUMNS} FROM memories WHERE {VISIBLE} "
                               "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                               (scope.user, scope.workspace, limit, offset))
        return list(map(_memory, rows))

    def export(self, user: str, workspace: str | None = None) -> Iterator[Memory]:
        """All of a user's memories (of one workspace and the global ones, if given)."""
        if workspace is None:
            rows = self.db.execute(f"SELECT {COLUMNS} FROM memories WHERE user = ? ORDER BY id",
                                   (user,))
        else:
            rows = self.db.execute(f"SELECT {COLUMNS} FROM memories WHERE {VISIBLE} "
                                   "ORDER BY id", (user, workspace))
        yield from map(_memory, rows.fetchall())

    def owners(self) -> builtins.list[tuple[str, str, int]]:
        """(user, workspace, count) of every scope that has memories."""
        return _rows(self.db.execute("SELECT user, workspace, count(*) FROM memories "
                                     "GROUP BY user, workspace ORDER BY user, workspace"))

    def stats(self, scope: Scope) -> MemoryStats:
        by_kind: dict[str, int] = dict(_rows(self.db.execute(
            f"SELECT kind, count(*) FROM memories WHERE {VISIBLE} GROUP BY kind ORDER BY kind",
            (scope.user, scope.workspace))))
        total, globals_, oldest, newest = _rows(self.db.execute(
            f"SELECT count(*), coalesce(sum(is_global), 0), min(created_at), max(created_at) "
            f"FROM memories WHERE {VISIBLE}", (scope.user, scope.workspace)))[0]
        return MemoryStats(total, by_kind, globals_, oldest, newest)
