"""Long-term memory as the server runs it: recall now, learning later, in the background.

``MemoryService`` is the ``MemoryPort`` the pipeline's stages get. ``recall`` asks the store
(in its worker thread) with the wall clock. ``extract_later`` puts a finished exchange on a
bounded queue and returns at once; when the queue is full, or the server is shutting down, the
job is dropped, logged and counted (an answer is never held back for memory). ``run`` is the
worker, started once in the server's root nursery: one job at a time, the surprise heuristic
(``surprise.candidates_for``) runs in a worker thread (a short turn and answer in which no
sentence reads as a memory, the common case, are passed over on the event loop), given the
scope's memories related to the turn as what is known already, and what it finds is stored
(``store.remember``: secrets refused, pruned by age and count); with
``MEMORY_MODEL_EXTRACTION`` a model is asked too (``model_call``) and what it adds is stored
beside. It also prunes every ``prune_every_s`` on
its own, so a server that learns nothing new still forgets what has aged out. ``close`` stops
taking jobs; ``drain`` lets the worker finish what is queued within a bound, and logs what it
dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import attrs
import trio

from lynkr.config.memory import MemorySettings
from lynkr.memory.store import SqliteMemoryStore
from lynkr.memory.surprise import candidates_for, statements
from lynkr.model.memory import Candidate, ExtractionJob, Recalled, Scope
from lynkr.stages.memory_injection import newest_turn, turn_text

log = logging.getLogger("lynkr.memory")
QUEUE_SIZE = 256  # finished exchanges waiting to be learnt from
KNOWN = 20  # related memories the heuristic is told about (what is not news)
PRUNE_EVERY_S = 6 * 3600.0
INLINE_CHARS = 600  # a turn and answer this short are looked at on the event loop (<~0.1 ms)
# the optional model-written extraction: (the user's words, the answer's blocks) -> candidates
Extractor = Callable[[str, Sequence[object]], Awaitable[tuple[Candidate, ...]]]


@attrs.define
class Counts:
    """What the worker did since start-up (for the log and the tests)."""

    queued: int = 0
    learnt: int = 0  # jobs done
    stored: int = 0  # memories stored by them
    dropped: int = 0  # jobs never done: queue full, shutting down, or left at the drain's end
    failed: int = 0
    prunes: int = 0


class MemoryService:
    def __init__(
        self,
        store: SqliteMemoryStore,
        settings: MemorySettings,
        *,
        clock: Callable[[], float] = time.time,
        queue_size: int = QUEUE_SIZE,
        prune_every_s: float = PRUNE_EVERY_S,
        extractor: Extractor | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.default_user = settings.default_user
        self.clock = clock
        self.prune_every_s = prune_every_s
        self.extractor = extractor  # MEMORY_MODEL_EXTRACTION: also ask a model
        self.counts = Counts()
        self._send, self._receive = trio.open_memory_channel[ExtractionJob](queue_size)
        self._closed = False
        self._idle = trio.Event()  # set once the worker has finished (after close)

    # the port

    async def recall(
        self, scope: Scope, text: str, *, exclude_session: str | None = None
    ) -> tuple[Recalled, ...]:
        return await self.store.recall(
            scope,
            text,
            self.settings.retrieval_limit,
            self.clock(),
            exclude_session=exclude_session,
        )

    def extract_later(self, job: ExtractionJob) -> bool:
        if self._closed:
            return self._drop(job, "shutting down")
        try:
            self._send.send_nowait(job)
        except trio.WouldBlock:
            return self._drop(job, "queue full")
        self.counts.queued += 1
        return True

    def _drop(self, job: ExtractionJob, reason: str) -> bool:
        self.counts.dropped += 1
        log.warning(
            "memory extraction dropped", extra={"reason": reason, "request_id": job.request_id}
        )
        return False

    # the worker

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Learn from queued jobs until ``close``, pruning now and then meanwhile."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._prune_forever)
                task_status.started()
                async with self._receive:
                    async for job in self._receive:
                        await self.learn(job)
                nursery.cancel_scope.cancel()
        finally:
            self._idle.set()

    async def learn(self, job: ExtractionJob) -> int:
        """Score one finished exchange and store what is worth it; the number stored."""
        # the worker's top-level guard: one bad job must neither stop learning nor reach the
        # server's nursery (which would take the server down); it is logged with its trace
        try:
            stored = await self._learn(job)
        except Exception:
            self.counts.failed += 1
            log.exception("memory extraction failed", extra={"request_id": job.request_id})
            return 0
        self.counts.learnt += 1
        self.counts.stored += stored
        return stored

    async def _learn(self, job: ExtractionJob) -> int:
        index = newest_turn(job.request.messages)
        if index is None:
            return 0
        turn = job.request.messages[index]
        text = turn_text(turn)
        said = None  # what reads as a memory, when found here (a short exchange)
        if self.extractor is None and _small(text, job.answer):
            said = statements(turn, job.answer)
            if not said:
                return 0  # nothing reads as a memory: decided here, no recall, no thread hop
        now = self.clock()
        related = await self.store.recall(job.scope, text, KNOWN, now, touch=False)
        threshold = self.settings.surprise_threshold
        candidates = await trio.to_thread.run_sync(
            lambda: candidates_for(
                job.request, job.answer, [r.memory.text for r in related], threshold, said
            )
        )
        if self.extractor is not None:
            known = {c.text for c in candidates} | {r.memory.text for r in related}
            asked = await self.extractor(text, job.answer)
            candidates += tuple(c for c in asked if c.text not in known)
        if not candidates:
            return 0
        stored = await self.store.remember(
            job.scope, candidates, now, session_id=job.session, request_id=job.request_id
        )
        log.info("memories stored", extra={"request_id": job.request_id, "count": len(stored)})
        return len(stored)

    async def _prune_forever(self) -> None:
        while True:
            await self.prune()
            await trio.sleep(self.prune_every_s)

    async def prune(self) -> None:
        report = await self.store.prune(self.clock())
        self.counts.prunes += 1
        if report.expired or report.over_count:
            log.info(
                "memories pruned",
                extra={"expired": report.expired, "over_count": report.over_count},
            )

    # shutdown

    def close(self) -> None:
        """Take no more jobs; the worker ends once the queued ones are done."""
        self._closed = True
        self._send.close()

    async def drain(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for the queued jobs; the number left undone (dropped)."""
        with trio.move_on_after(timeout_s):
            await self._idle.wait()
        left = self._receive.statistics().current_buffer_used if not self._idle.is_set() else 0
        if left:
            self.counts.dropped += left
            log.warning("memory extraction dropped at shutdown", extra={"jobs": left})
        return left


def _small(text: str, answer: Sequence[object]) -> bool:
    """Whether the user's words and the answer's text are short enough to be looked at
    without a worker thread."""
    size = len(text)
    for block in answer:
        size += len(getattr(block, "text", "") or "")
    return size <= INLINE_CHARS
