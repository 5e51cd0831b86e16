"""Long-term memory as plain values: what is remembered, for whom, and what to remember.

These are shared by the memory store (``lynkr.memory``), the ``MemoryStore`` port and the
``memory_inject`` stage, so they live at the bottom of the layers.
"""

from __future__ import annotations

from typing import Literal

import attrs

from lynkr.model.content import Block
from lynkr.model.request import Request

MemoryKind = Literal["preference", "decision", "fact", "entity", "relationship"]
KINDS: tuple[MemoryKind, ...] = ("preference", "decision", "fact", "entity", "relationship")


@attrs.frozen
class Scope:
    """Whose memories: one user, in one workspace ("" when no workspace is known).

    A memory stored with ``is_global`` is seen by its user in every workspace; nothing is ever
    seen by another user.
    """

    user: str
    workspace: str = ""


@attrs.frozen
class Candidate:
    """Something worth remembering, before it is stored."""

    kind: MemoryKind
    text: str
    importance: float = 0.5  # 0..1
    subject: str = ""  # a normalised key: a newer memory on the same subject replaces the older
    is_global: bool = False


@attrs.frozen
class Memory:
    id: int
    kind: MemoryKind
    text: str
    importance: float
    user: str
    workspace: str
    is_global: bool
    created_at: float  # seconds since the epoch, from the caller's clock
    last_used_at: float
    use_count: int = 0
    subject: str = ""
    session_id: str | None = None
    request_id: str | None = None


@attrs.frozen
class Recalled:
    """A memory chosen for a request, with the parts of its score (each 0..1)."""

    memory: Memory
    score: float
    relevance: float
    recency: float
    importance: float


@attrs.frozen
class MemoryStats:
    """What one scope holds (its workspace's memories and the user's global ones)."""

    total: int
    by_kind: dict[str, int]
    global_count: int
    oldest: float | None
    newest: float | None


@attrs.frozen
class ExtractionJob:
    """One finished exchange to learn from, handed to the memory's background worker: the
    request as it went upstream and the answer's content blocks."""

    scope: Scope
    request: Request
    answer: tuple[Block, ...]
    session: str | None = None  # the session key the memories are stored under
    request_id: str | None = None
