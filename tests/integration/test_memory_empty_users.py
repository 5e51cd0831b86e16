"""A user with no memories costs a recall nothing (``memory/emptiness``), and a memory written
anywhere (this store, another process's connection, the CLI's) is recalled at once after; a
short exchange with nothing to learn costs the worker no thread hop."""

from __future__ import annotations

from pathlib import Path

import trio

from lynkr.config.memory import MemorySettings
from lynkr.memory import emptiness, service
from lynkr.memory.database import MemoryDatabase
from lynkr.memory.service import MemoryService
from lynkr.memory.store import SqliteMemoryStore
from lynkr.model import Message, Request, TextBlock
from lynkr.model.memory import Candidate, ExtractionJob, Scope

ALICE = Scope("alice", "/home/alice/project")
BOB = Scope("bob", "/home/bob/project")
T0 = 1_700_000_000.0
PREFERENCE = Candidate("preference", "I prefer Python for data processing", 0.8)


class CountedStore(SqliteMemoryStore):
    """Counts the calls that went to the database (each one a thread hop)."""

    calls = 0

    async def _run(self, work, *, writes=True):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await super()._run(work, writes=writes)


def counted(path: Path) -> CountedStore:
    return CountedStore(path, MemorySettings())


async def test_a_user_known_empty_is_answered_without_the_database(tmp_path: Path) -> None:
    memory = counted(tmp_path / "memory.db")
    await memory.remember(BOB, [PREFERENCE], T0)  # someone else has memories
    assert await memory.recall(ALICE, "which language for data?", 5, T0) == ()
    asked = memory.calls
    for _ in range(5):
        assert await memory.recall(ALICE, "which language for data?", 5, T0) == ()
    assert memory.calls == asked  # noted empty: no more reads
    # bob has memories, so a recall that finds nothing for him still asks every time
    assert await memory.recall(BOB, "gardening tips", 5, T0) == ()
    assert await memory.recall(BOB, "gardening tips", 5, T0) == ()
    assert memory.calls == asked + 2


async def test_this_stores_write_is_recalled_next(tmp_path: Path) -> None:
    memory = counted(tmp_path / "memory.db")
    assert await memory.recall(ALICE, "which language for data?", 5, T0) == ()
    await memory.remember(ALICE, [PREFERENCE], T0)
    recalled = await memory.recall(ALICE, "which language for data?", 5, T0)
    assert [r.memory.text for r in recalled] == [PREFERENCE.text]


async def test_another_connections_write_is_recalled_next(tmp_path: Path) -> None:
    """Another ``--workers`` process, or ``lynkr memory add``, writes the same file."""
    path = tmp_path / "memory.db"
    memory = counted(path)
    assert await memory.recall(ALICE, "which language for data?", 5, T0) == ()
    assert await memory.recall(ALICE, "which language for data?", 5, T0) == ()
    other = MemoryDatabase(path)
    try:
        other.add(ALICE, PREFERENCE, T0)
    finally:
        other.close()
    recalled = await memory.recall(ALICE, "which language for data?", 5, T0)
    assert [r.memory.text for r in recalled] == [PREFERENCE.text]


async def test_a_note_is_trusted_for_a_bounded_time(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = [100.0]
    monkeypatch.setattr(emptiness.time, "monotonic", lambda: now[0])
    memory = counted(tmp_path / "memory.db")
    await memory.recall(ALICE, "which language for data?", 5, T0)
    asked = memory.calls
    now[0] += emptiness.TRUST_S - 0.1
    await memory.recall(ALICE, "which language for data?", 5, T0)
    assert memory.calls == asked
    now[0] += 0.2
    await memory.recall(ALICE, "which language for data?", 5, T0)
    assert memory.calls == asked + 1


def test_a_note_taken_before_a_write_is_void() -> None:
    signature = [((1, 1, 1),)]
    users = emptiness.EmptyUsers(lambda: signature[0], clock=lambda: 0.0)
    token = users.token()
    users.wrote()
    users.note_empty("alice", token)
    assert not users.is_empty("alice")
    users.note_empty("alice", users.token())
    assert users.is_empty("alice")
    signature[0] = ((2, 1, 1),)  # another process committed
    assert not users.is_empty("alice")


def _job(text: str, answer: str = "Noted.") -> ExtractionJob:
    request = Request(model="m", max_tokens=10, messages=(Message("user", (TextBlock(text),)),))
    return ExtractionJob(ALICE, request, (TextBlock(answer),), "sid:s1", "req_1")


async def test_a_short_turn_with_nothing_to_learn_never_reaches_a_thread(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    hops = []
    real = trio.to_thread.run_sync

    async def counted_hop(*args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(args[0])
        return await real(*args, **kwargs)

    monkeypatch.setattr(trio.to_thread, "run_sync", counted_hop)
    memory = MemoryService(counted(tmp_path / "memory.db"), MemorySettings(), clock=lambda: T0)
    assert await memory.learn(_job("say hi", "Hi! How can I help you with your code today?")) == 0
    assert hops == [] and memory.store.calls == 0  # type: ignore[attr-defined]
    # a long exchange goes to the thread whatever it says; a statement is learnt as before
    assert await memory.learn(_job("say hi", "Hi! " * (service.INLINE_CHARS // 4))) == 0
    assert hops  # the heuristic ran in a thread
    assert await memory.learn(_job("I prefer Python for data processing.")) == 1
