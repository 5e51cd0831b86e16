"""The memory service on a real apsw file: the background worker learns from handed-off turns,
drops (and counts) what it cannot take, drains at shutdown, and prunes on trio's virtual clock."""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from lynkr.config.memory import MemorySettings
from lynkr.memory.ranking import DAY
from lynkr.memory.service import MemoryService
from lynkr.memory.store import SqliteMemoryStore
from lynkr.model import Message, Request, TextBlock
from lynkr.model.memory import Candidate, ExtractionJob, Scope

ANN = Scope("ann", "/home/ann/shop")
T0 = 1_700_000_000.0


def service(tmp_path: Path, clock: object = None, **options: object) -> MemoryService:
    settings = MemorySettings()
    store = SqliteMemoryStore(tmp_path / "memory.db", settings)
    return MemoryService(store, settings, clock=clock or (lambda: T0), **options)  # type: ignore[arg-type]


def job(text: str, scope: Scope = ANN, request_id: str = "req_1") -> ExtractionJob:
    request = Request(model="m", max_tokens=10, messages=(Message("user", (TextBlock(text),)),))
    return ExtractionJob(scope, request, (TextBlock("Noted."),), "sid:s1", request_id)


async def test_a_handed_off_turn_is_learnt_in_the_background(tmp_path: Path) -> None:
    memory = service(tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(memory.run)
        assert memory.extract_later(job("I prefer Python for data processing."))
        assert memory.extract_later(job("What time is it?", request_id="req_2"))
        memory.close()
        assert await memory.drain(10) == 0
    assert (memory.counts.queued, memory.counts.learnt, memory.counts.stored) == (2, 2, 1)
    recalled = await memory.recall(
        ANN, "what language for data tasks?", exclude_session="sid:other"
    )
    assert [r.memory.text for r in recalled] == ["I prefer Python for data processing."]
    assert (recalled[0].memory.session_id, recalled[0].memory.request_id) == ("sid:s1", "req_1")
    assert await memory.recall(ANN, "data tasks", exclude_session="sid:s1") == ()
    assert await memory.recall(Scope("bob", ANN.workspace), "data processing") == ()
    memory.store.close()


async def test_a_full_queue_or_a_closed_service_drops_and_counts(tmp_path: Path) -> None:
    memory = service(tmp_path, queue_size=1)
    assert memory.extract_later(job("I prefer Python for data processing."))
    assert not memory.extract_later(job("We deploy with Helm on Fridays."))  # nobody reads yet
    memory.close()
    assert not memory.extract_later(job("Our database is Postgres 16."))
    assert memory.counts.dropped == 2
    async with trio.open_nursery() as nursery:  # the one queued job is still done
        nursery.start_soon(memory.run)
        assert await memory.drain(10) == 0
    assert memory.counts.stored == 1
    memory.store.close()


async def test_a_drain_that_runs_out_of_time_says_what_it_dropped(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    memory = service(tmp_path)
    for n in range(3):
        memory.extract_later(job(f"I prefer tool number {n} for data processing."))
    memory.close()  # no worker ever ran
    assert await memory.drain(1.0) == 3
    assert memory.counts.dropped == 3
    memory.store.close()


async def test_a_failing_job_does_not_stop_the_worker(tmp_path: Path) -> None:
    memory = service(tmp_path)
    broken = ExtractionJob(ANN, None, (), None, "req_x")  # type: ignore[arg-type]
    async with trio.open_nursery() as nursery:
        await nursery.start(memory.run)
        memory.extract_later(broken)
        memory.extract_later(job("Our database is Postgres 16 on the staging cluster."))
        memory.close()
        await memory.drain(10)
    assert (memory.counts.failed, memory.counts.learnt, memory.counts.stored) == (1, 1, 1)
    memory.store.close()


async def test_pruning_runs_on_its_own_on_the_virtual_clock(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    """Nothing new is learnt: the worker still forgets what went unused for
    MEMORY_MAX_AGE_DAYS (90), once a day on its own schedule, on trio's virtual clock (moved
    a day at a time; each day's prune, in a worker thread, is waited for)."""
    memory = service(tmp_path, clock=lambda: T0 + trio.current_time(), prune_every_s=DAY)
    await memory.store.remember(
        ANN,
        [
            Candidate("fact", "The staging cluster is in Oslo", 0.9),
            Candidate("fact", "Releases ship on Tuesdays", 0.9),
        ],
        T0 + trio.current_time(),
    )

    async def pruned(count: int) -> None:
        while memory.counts.prunes < count:
            await trio.testing.wait_all_tasks_blocked()
        await trio.testing.wait_all_tasks_blocked()  # and the worker asleep again

    async def day(n: int) -> None:
        await pruned(n)
        mock_clock.jump(DAY)
        await pruned(n + 1)

    async with trio.open_nursery() as nursery:
        await nursery.start(memory.run)
        for n in range(1, 61):
            await day(n)
        used = await memory.recall(ANN, "which day do releases ship?")  # marks it used
        assert [r.memory.text for r in used] == ["Releases ship on Tuesdays"]
        for n in range(61, 90):
            await day(n)
        both = await memory.store.recall(
            ANN, "staging cluster releases", 5, T0 + trio.current_time(), touch=False
        )
        assert len(both) == 2  # day 89: nothing is 90 days unused yet
        for n in range(90, 92):
            await day(n)
        left = await memory.store.recall(
            ANN, "staging cluster releases", 5, T0 + trio.current_time(), touch=False
        )
        assert [r.memory.text for r in left] == ["Releases ship on Tuesdays"]
        memory.close()
        await memory.drain(1)
    memory.store.close()
