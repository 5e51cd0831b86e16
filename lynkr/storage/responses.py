"""Stored Responses-API conversations, so ``previous_response_id`` works against stateless
backends.

A stored entry is the whole conversation as the client sees it after that response (its
messages plus the answer), as Anthropic-format JSON, kept for ``retention_s`` seconds. Reads
and writes run in a worker thread behind one capacity limiter; expired rows are pruned on
write. The clock is the caller's.
"""

from __future__ import annotations

from pathlib import Path

import apsw
import orjson
import trio

from lynkr.formats.anthropic.blocks import parse_content, render_block
from lynkr.model.request import Message
from lynkr.storage.sqlite import open_db


def dump_conversation(messages: tuple[Message, ...]) -> bytes:
    return orjson.dumps([{"role": m.role, "content": [render_block(b) for b in m.content]}
                         for m in messages])


def load_conversation(data: bytes) -> tuple[Message, ...]:
    return tuple(Message(m["role"], parse_content(m["content"], "stored"))
                 for m in orjson.loads(data))


class ResponseStore:
    def __init__(self, path: str | Path, retention_s: float) -> None:
        self.path = path
        self.retention_s = retention_s
        self._db: apsw.Connection | None = None
        self._limiter = trio.CapacityLimiter(1)

    def _connection(self) -> apsw.Connection:
        if self._db is None:
            self._db = open_db(self.path)
        return self._db

    async def save(self, response_id: str, model: str, conversation: tuple[Message, ...],
                   now: float) -> None:
        data = dump_conversation(conversation)

        def write() -> None:
            db = self._connection()
            with db:
                db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                           (response_id, now, model, data))
                db.execute("DELETE FROM responses WHERE created_at < ?",
                           (now - self.retention_s,))

        await trio.to_thread.run_sync(write, limiter=self._limiter)

    async def load(self, response_id: str, now: float) -> tuple[Message, ...] | None:
        """The conversation up to ``response_id``, or None if unknown or expired."""

        def read() -> bytes | None:
            row = self._connection().execute(
                "SELECT conversation FROM responses WHERE id = ? AND created_at >= ?",
                (response_id, now - self.retention_s)).fetchone()
            return None if row is None else row[0]

        data = await trio.to_thread.run_sync(read, limiter=self._limiter)
        return None if data is None else load_conversation(data)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
