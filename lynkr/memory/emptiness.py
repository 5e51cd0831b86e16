"""Which users are known to have no memories, so a recall for them needs no thread hop, no
SQLite read and no embedding call (memory is on by default; most users have none yet).

A user is noted empty by a recall that found nothing and then asked the database
(``MemoryDatabase.has_memories``); the note holds a token taken before that read: this store's
write generation (``wrote`` is called before every call that may write) and the database
files' signature (size, mtime and inode of the file and its WAL, which every commit by any
process changes: ``lynkr memory add``, another ``--workers`` process). The note is believed
only while both are unchanged, and for at most ``TRUST_S`` seconds (a bound for a signature
that a write within one timestamp tick left the same). So a memory written anywhere is
recalled on the next request, as without this check.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

Signature = tuple[tuple[int, int, int], ...]
Token = tuple[int, Signature]
TRUST_S = 5.0
MAX_USERS = 4096


def file_signature(path: str | Path) -> Callable[[], Signature]:
    """A function giving the signature of the SQLite database at ``path`` and its WAL (a
    ``:memory:`` database is private to its one connection: only the generation counts)."""
    if str(path) == ":memory:":
        return lambda: ()
    files = (str(path), f"{path}-wal")

    def signature() -> Signature:
        out = []
        for name in files:
            try:
                st = os.stat(name)
            except OSError:
                out.append((-1, -1, -1))
            else:
                out.append((st.st_size, st.st_mtime_ns, st.st_ino))
        return tuple(out)

    return signature


class EmptyUsers:
    def __init__(
        self, signature: Callable[[], Signature], clock: Callable[[], float] | None = None
    ) -> None:
        self._signature = signature
        self._clock = clock or (lambda: time.monotonic())
        self._generation = 0
        self._empty: dict[str, tuple[Token, float]] = {}

    def token(self) -> Token:
        """Taken before the read that may find a user empty (in the reading thread is fine)."""
        return self._generation, self._signature()

    def wrote(self) -> None:
        """This store is about to write (or might): every note is void."""
        self._generation += 1
        self._empty.clear()

    def note_empty(self, user: str, token: Token) -> None:
        if token[0] != self._generation:
            return  # written meanwhile
        if len(self._empty) >= MAX_USERS:
            self._empty.clear()
        self._empty[user] = (token, self._clock() + TRUST_S)

    def is_empty(self, user: str) -> bool:
        noted = self._empty.get(user)
        if noted is None:
            return False
        token, until = noted
        if self._clock() < until and token == (self._generation, self._signature()):
            return True
        del self._empty[user]
        return False
