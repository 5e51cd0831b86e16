"""Stored Responses-API conversations, so ``previous_response_id`` works against stateless
backends.

A stored entry is the whole conversation as the client sees it after that response (its
messages plus the answer), as Anthropic-format JSON, kept for ``retention_s`` seconds. Each
entry belongs to the caller that created it (``owner``, an identity the server derives from the
caller's credentials): another caller asking for the same id is told it does not exist, and ids
are random (the server's ``new_response_id``), never derived from anything a client sends.
A quota bounds the store: a caller's entries beyond ``owner_quota`` bytes and everyone's beyond
``total_quota`` bytes are dropped oldest first; an entry larger than the caller's quota is not
kept at all. Reads and writes run in a worker thread behind one capacity limiter; expired rows
are pruned on write. The clock is the caller's.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import apsw
import attrs
import orjson
import trio

from lynkr.formats.anthropic.blocks import parse_content, render_block
from lynkr.model.request import Message
from lynkr.storage.sqlite import open_db


def new_response_id() -> str:
    """An unguessable id (192 random bits)."""
    return "resp_" + secrets.token_hex(24)


def dump_conversation(messages: tuple[Message, ...]) -> bytes:
    return orjson.dumps([{"role": m.role, "content": [render_block(b) for b in m.content]}
                         for m in messages])


def load_conversation(data: bytes) -> tuple[Message, ...]:
    return tuple(Message(m["role"], parse_content(m["content"], "stored"))
                 for m in orjson.loads(data))


@attrs.frozen
class StoreQuota:
    owner_bytes: int = 64 * 1024 * 1024  # RESPONSES_MAX_BYTES_PER_CALLER
    total_bytes: int = 1024 * 1024 * 1024  # RESPONSES_MAX_BYTES


class ResponseStore:
    def __init__(self, path: str | Path, retention_s: float,
                 quota: StoreQuota | None = None) -> None:
        self.path = path
        self.quota = quota or StoreQuota()
        self.retention_s = retention_s
        self._db: apsw.Connection | None = None
        self._limiter = trio.CapacityLimiter(1)

    def _connection(self) -> apsw.Connection:
        if self._db is None:
            self._db = open_db(self.path)
        return self._db

    async def save(self, response_id: str, owner: str, model: str,
                   conversation: tuple[Message, ...], now: float) -> bool:
        """Keep the conversation for ``owner``; False if it is larger than the caller's quota."""
        data = dump_conversation(conversation)
        if len(data) > self.quota.owner_bytes:
            return False

        def write() -> None:
            db = self._connection()
            with db:
                db.execute("DELETE FROM responses WHERE created_at < ?",
                           (now - self.retention_s,))
                db.execute("INSERT INTO responses (id, created_at, model, conversation, owner, "
                           "size) VALUES (?, ?, ?, ?, ?, ?)",
                           (response_id, now, model, data, owner, len(data)))
                _evict(db, "WHERE owner = ?", (owner,), self.quota.owner_bytes)
                _evict(db, "", (), self.quota.total_bytes)

        await trio.to_thread.run_sync(write, limiter=self._limiter)
        return True

    async def load(self, response_id: str, owner: str, now: float
                   ) -> tuple[Message, ...] | None:
        """The conversation up to ``response_id`` if ``owner`` stored it and it has not
        expired, else None (another caller's id reads as unknown)."""

        def read() -> bytes | None:
            row = self._connection().execute(
                "SELECT conversation FROM responses WHERE id = ? AND owner = ? "
                "AND created_at >= ?", (response_id, owner, now - self.retention_s)).fetchone()
            return None if row is None else row[0]

        data = await trio.to_thread.run_sync(read, limiter=self._limiter)
        return None if data is None else load_conversation(data)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _evict(db: apsw.Connection, where: str, args: tuple[str, ...], limit: int) -> None:
    """Drop the oldest rows matching ``where`` until their sizes sum to at most ``limit``."""
    row = db.execute(f"SELECT COALESCE(SUM(size), 0) FROM responses {where}", args
                     ).fetchone()
    total = row[0] if row is not None else 0
    if total <= limit:
        return
    excess, doomed = total - limit, []
    for row_id, size in db.execute(
            f"SELECT id, size FROM responses {where} ORDER BY created_at, rowid", args):
        doomed.append((row_id,))
        excess -= size
        if excess <= 0:
            break
    db.executemany("DELETE FROM responses WHERE id = ?", doomed)
