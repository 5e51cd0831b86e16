"""The ``MemoryStore`` port on the apsw database: every call runs in a worker thread behind one
``CapacityLimiter``, so neither reads nor writes ever block the event loop.

Recall: the newest user words become FTS5 terms (``query``); with an embedder, the query's
vector is compared with the scope's stored vectors and the two rankings are fused (``ranking``);
the best memories that fit the token budget are returned and marked used. Remember: secrets and
invalid candidates are skipped (logged, never stored), the rest stored, then the user's
memories are pruned by age and count, then embedded when an embedder is configured. An
embedder that fails never fails a call: recall falls back to keywords, and memories stored
without a vector get one on a later ``remember``. A recall for a user known to have no
memories at all (``emptiness``: noted by an earlier recall, void after any write by anyone)
returns nothing at once: no thread hop, no read, no embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import trio

from lynkr.config.memory import MemorySettings
from lynkr.memory.database import MemoryDatabase, PruneReport, SecretRefused
from lynkr.memory.emptiness import EmptyUsers, Token, file_signature
from lynkr.memory.query import terms
from lynkr.memory.ranking import fuse, rank, within_budget
from lynkr.memory.vectors import TextEmbedder, VectorIndex, pack
from lynkr.model.errors import LynkrError
from lynkr.model.memory import Candidate, Memory, MemoryStats, Recalled, Scope
from lynkr.ports import estimate_tokens
from lynkr.stages.memory_injection import render_memories

log = logging.getLogger("lynkr.memory")
T = TypeVar("T")
CANDIDATES = 50  # from each ranking, before fusion
MIN_SIMILARITY = 0.25  # cosine: below this an embedding match is noise
QUERY_CHARS = 2000
EMBED_BATCH = 64
MAX_INDEXES = 256  # scopes whose vectors stay loaded


class SqliteMemoryStore:
    def __init__(self, path: str | Path, settings: MemorySettings,
                 embedder: TextEmbedder | None = None,
                 count_tokens: Callable[[str], int] = estimate_tokens) -> None:
        self.path = path
        self.settings = settings
        self.embedder = embedder
        self.count_tokens = count_tokens
        self._db: MemoryDatabase | None = None
        self._limiter = trio.CapacityLimiter(1)
        self._indexes: dict[Scope, VectorIndex] = {}
        self._empty = EmptyUsers(file_signature(path))

    def _database(self) -> MemoryDatabase:
        if self._db is None:
            self._db = MemoryDatabase(self.path)
        return self._db

    async def _run(self, work: Callable[[MemoryDatabase], T], *, writes: bool = True) -> T:
        if not writes:
            return await trio.to_thread.run_sync(lambda: work(self._database()),
                                                 limiter=self._limiter)
        self._empty.wrote()
        try:
            return await trio.to_thread.run_sync(lambda: work(self._database()),
                                                 limiter=self._limiter)
        finally:
            self._empty.wrote()

    async def recall(self, scope: Scope, text: str, limit: int, now: float, *,
                     touch: bool = True, exclude_session: str | None = None
                     ) -> tuple[Recalled, ...]:
        """The best memories for ``text`` within the token budget, marked used unless
        ``touch`` is False; none learnt in ``exclude_session``."""
        words = terms(text)
        if (not words and (self.embedder is None or not text.strip())) \
                or self._empty.is_empty(scope.user):
            return ()  # nothing to search by, or a user known to have no memories
        query = await self._embed_query(text) if text.strip() else None
        if not words and query is None:
            return ()
        settings = self.settings
        empty_for: list[Token] = []  # the token, when the user turned out to have none

        def work(db: MemoryDatabase) -> tuple[Recalled, ...]:
            token = self._empty.token()
            rankings = [db.search(scope, words, CANDIDATES)]
            if query is not None:
                rankings.append(self._index(db, scope).nearest(query, CANDIDATES,
                                                               MIN_SIMILARITY))
            fused = fuse(rankings)
            if not fused and not db.has_memories(scope.user):
                empty_for.append(token)
                return ()
            found = db.get(scope, fused)
            if exclude_session is not None:
                found = {i: m for i, m in found.items() if m.session_id != exclude_session}
            ranked = rank(fused, found, now, limit, settings.importance_half_life_days)
            chosen = within_budget(ranked, render_memories, self.count_tokens,
                                   settings.max_inject_tokens)
            if touch:
                db.touch((r.memory.id for r in chosen), now)
            return chosen

        recalled = await self._run(work, writes=False)  # touching voids no note
        for token in empty_for:
            self._empty.note_empty(scope.user, token)
        return recalled

    async def _embed_query(self, text: str) -> Sequence[float] | None:
        """The query's vector, or None without an embedder or when it fails (keywords only)."""
        if self.embedder is None:
            return None
        try:
            return (await self.embedder.embed_texts([text[:QUERY_CHARS]]))[0]
        except LynkrError as exc:
            log.warning("memory recall without embeddings", extra={"reason": str(exc)})
            return None

    def _index(self, db: MemoryDatabase, scope: Scope) -> VectorIndex:
        assert self.embedder is not None
        index = self._indexes.pop(scope, None)  # re-inserted last: least recently used first
        if index is None:
            index = VectorIndex(db.vectors(scope, self.embedder.model))
        self._indexes[scope] = index
        while len(self._indexes) > MAX_INDEXES:
            del self._indexes[next(iter(self._indexes))]
        return index

    async def remember(self, scope: Scope, candidates: Sequence[Candidate], now: float, *,
                       session_id: str | None = None, request_id: str | None = None
                       ) -> tuple[Memory, ...]:
        settings = self.settings

        def work(db: MemoryDatabase) -> tuple[Memory, ...]:
            stored = []
            for candidate in candidates:
                try:
                    stored.append(db.add(scope, candidate, now, session_id, request_id))
                except SecretRefused as exc:
                    log.info("memory skipped", extra={"reason": str(exc),
                                                      "request_id": request_id})
                except ValueError as exc:
                    log.warning("memory skipped", extra={"reason": str(exc),
                                                         "request_id": request_id})
            db.prune(now, settings.max_age_days, settings.max_count,
                     settings.importance_half_life_days)
            return tuple(stored)

        stored = await self._run(work)
        if stored:
            await self.embed_missing(scope)
        return stored

    async def embed_missing(self, scope: Scope, batch: int = EMBED_BATCH) -> int:
        """Embed up to ``batch`` of the scope's memories that have no vector yet (new ones, or
        ones stored while the embedder was down); 0 without an embedder or when it fails."""
        if self.embedder is None:
            return 0
        model = self.embedder.model
        missing = await self._run(lambda db: db.unembedded(scope, model, batch))
        if not missing:
            return 0
        try:
            vectors = await self.embedder.embed_texts([text for _, text in missing])
        except LynkrError as exc:
            log.warning("memories stored without embeddings", extra={"reason": str(exc)})
            return 0
        rows = [(i, model, pack(v)) for (i, _), v in zip(missing, vectors, strict=True)]

        def store(db: MemoryDatabase) -> None:
            db.set_vectors(rows)
            self._forget_indexes(scope.user)

        await self._run(store)
        return len(rows)

    async def prune(self, now: float) -> PruneReport:
        """Forget what has aged out, and each user's least important beyond the count."""
        settings = self.settings
        return await self._run(lambda db: db.prune(now, settings.max_age_days,
                                                   settings.max_count,
                                                   settings.importance_half_life_days))

    async def forget(self, scope: Scope, memory_id: int) -> bool:
        def forget(db: MemoryDatabase) -> bool:
            self._forget_indexes(scope.user)
            return db.forget(scope, memory_id)

        return await self._run(forget)

    async def stats(self, scope: Scope) -> MemoryStats:
        return await self._run(lambda db: db.stats(scope))

    def _forget_indexes(self, user: str) -> None:
        """In the worker thread, like every use of the indexes (the limiter serialises them)."""
        for scope in [s for s in self._indexes if s.user == user]:
            del self._indexes[scope]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
