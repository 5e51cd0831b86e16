"""The ``MemoryStore`` port: what the memory service (``service``), the memory tools and
``lynkr memory search`` ask of the store. ``lynkr.memory.store.SqliteMemoryStore`` is the
implementation; tests may pass any object of this shape. (The pipeline sees memory through
``lynkr.ports.MemoryPort``, which the service implements.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lynkr.model.memory import Candidate, Memory, MemoryStats, Recalled, Scope


class MemoryStore(Protocol):
    async def recall(self, scope: Scope, text: str, limit: int, now: float, *,
                     touch: bool = True, exclude_session: str | None = None
                     ) -> tuple[Recalled, ...]:
        """The best memories for ``text``, best first, within the injection's token budget;
        marks them used. ``text`` is what the user typed: ``memory_injection.turn_text`` of the
        newest user turn (no system reminders, no tool results)."""
        ...

    async def remember(self, scope: Scope, candidates: Sequence[Candidate], now: float, *,
                       session_id: str | None = None, request_id: str | None = None
                       ) -> tuple[Memory, ...]:
        """Store what is storable (secrets are skipped), prune, and return what was stored."""
        ...

    async def forget(self, scope: Scope, memory_id: int) -> bool: ...

    async def stats(self, scope: Scope) -> MemoryStats: ...
