"""The memory store on a real SQLite file through apsw: FTS5, scoping, pruning, migrations."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import apsw
import pytest
import trio
import trio.testing

from lynkr.config.memory import MemorySettings
from lynkr.memory.database import MemoryDatabase, SecretRefused
from lynkr.memory.ranking import DAY
from lynkr.memory.schema import MIGRATIONS
from lynkr.memory.store import SqliteMemoryStore
from lynkr.model.memory import Candidate, Scope

ALICE = Scope("alice", "/home/alice/project")
BOB = Scope("bob", "/home/alice/project")  # same workspace path, another user
T0 = 1_700_000_000.0


def store(tmp_path: Path, **settings: object) -> SqliteMemoryStore:
    return SqliteMemoryStore(tmp_path / "data" / "memory.db", MemorySettings(**settings))


async def test_a_preference_is_recalled_from_a_paraphrase(tmp_path: Path) -> None:
    memory = store(tmp_path)
    await memory.remember(ALICE, [Candidate("preference", "I prefer Python for data processing",
                                            0.8)], T0, session_id="s1", request_id="req_1")
    await memory.remember(ALICE, [Candidate("fact", "The CI runs on GitHub Actions", 0.5)], T0)
    recalled = await memory.recall(ALICE, "What language should I use for data tasks?", 5,
                                   T0 + 60)
    assert [r.memory.text for r in recalled] == ["I prefer Python for data processing"]
    first = recalled[0].memory
    assert (first.session_id, first.request_id, first.kind) == ("s1", "req_1", "preference")
    again = await memory.recall(ALICE, "data tasks", 5, T0 + 120)
    assert (again[0].memory.use_count, again[0].memory.last_used_at) == (1, T0 + 60)
    memory.close()


async def test_one_user_never_sees_another_users_memories(tmp_path: Path) -> None:
    memory = store(tmp_path)
    await memory.remember(ALICE, [Candidate("fact", "My doctor is Dr. Emma Stone", 0.9),
                                  Candidate("preference", "I like tabs", 0.9, is_global=True)],
                          T0)
    assert await memory.recall(BOB, "who is my doctor", 5, T0) == ()
    assert await memory.recall(BOB, "tabs", 5, T0) == ()
    assert not await memory.forget(BOB, 1)
    assert (await memory.stats(BOB)).total == 0
    assert (await memory.stats(ALICE)).total == 2
    memory.close()


async def test_global_memories_follow_their_user_into_every_workspace(tmp_path: Path) -> None:
    memory = store(tmp_path)
    elsewhere = Scope("alice", "/srv/other")
    await memory.remember(ALICE, [Candidate("preference", "I indent with tabs", 0.7,
                                            is_global=True),
                                  Candidate("fact", "This repo deploys with Helm", 0.7)], T0)
    texts = [r.memory.text for r in await memory.recall(elsewhere, "tabs helm", 5, T0)]
    assert texts == ["I indent with tabs"]
    memory.close()


async def test_secrets_are_never_stored(tmp_path: Path) -> None:
    memory = store(tmp_path)
    stored = await memory.remember(ALICE, [
        Candidate("fact", "my password is hunter2!!", 0.9),
        Candidate("fact", "OPENAI_API_KEY=sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2", 0.9),
        Candidate("fact", "The staging host is staging.example.com", 0.5),
    ], T0)
    assert [m.text for m in stored] == ["The staging host is staging.example.com"]
    raw = (tmp_path / "data" / "memory.db").read_bytes()
    assert b"hunter2" not in raw and b"sk-proj" not in raw
    db = MemoryDatabase(tmp_path / "data" / "memory.db")
    with pytest.raises(SecretRefused, match="password"):
        db.add(ALICE, Candidate("fact", "password: hunter2!!"), T0)
    db.close()
    memory.close()


async def test_a_newer_memory_on_the_same_subject_replaces_the_older(tmp_path: Path) -> None:
    memory = store(tmp_path)
    await memory.remember(ALICE, [Candidate("fact", "Billing runs on MySQL", 0.6,
                                            subject="billing database")], T0)
    await memory.remember(ALICE, [Candidate("fact", "Billing moved to PostgreSQL", 0.6,
                                            subject="billing database")], T0 + DAY)
    recalled = await memory.recall(ALICE, "which database does billing use", 5, T0 + 2 * DAY)
    assert [r.memory.text for r in recalled] == ["Billing moved to PostgreSQL"]
    memory.close()


async def test_the_same_text_twice_is_one_memory_refreshed(tmp_path: Path) -> None:
    memory = store(tmp_path)
    first = await memory.remember(ALICE, [Candidate("fact", "Deploys  happen on Fridays", 0.3)],
                                  T0)
    second = await memory.remember(ALICE, [Candidate("fact", "Deploys happen on Fridays", 0.6)],
                                   T0 + 10)
    assert first[0].id == second[0].id
    assert (second[0].importance, second[0].last_used_at) == (0.6, T0 + 10)
    memory.close()


async def test_the_injected_block_stays_within_the_token_budget(tmp_path: Path) -> None:
    memory = store(tmp_path, max_inject_tokens=120)
    await memory.remember(ALICE, [Candidate("fact", f"Service {n} uses Redis " + "x " * 40, 0.5)
                                  for n in range(10)], T0)
    recalled = await memory.recall(ALICE, "redis", 10, T0)
    assert 0 < len(recalled) < 10
    memory.close()


async def test_pruning_by_age_and_count_on_the_virtual_clock(
        tmp_path: Path, autojump_clock: trio.testing.MockClock) -> None:
    """Time is trio's virtual clock, read by the caller: a year passes in no time."""
    memory = store(tmp_path, max_age_days=90, max_count=3)
    clock = trio.current_time
    start = T0 + clock()
    await memory.remember(ALICE, [Candidate("fact", "Old unused fact about Kafka", 0.9)], start)
    await trio.sleep(100 * DAY)
    now = T0 + clock()
    await memory.remember(ALICE, [Candidate("fact", f"Fresh fact {n} about Kafka", 0.2 + n / 10)
                                  for n in range(4)], now)
    texts = sorted(r.memory.text for r in await memory.recall(ALICE, "kafka", 10, now))
    assert texts == ["Fresh fact 1 about Kafka", "Fresh fact 2 about Kafka",
                     "Fresh fact 3 about Kafka"]  # the old one expired, the least important cut
    memory.close()


async def test_writes_run_off_the_event_loop(tmp_path: Path) -> None:
    memory = store(tmp_path)
    seen: list[str] = []
    database = memory._database()
    original = database.add

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    database.add = spy  # type: ignore[method-assign]
    await memory.remember(ALICE, [Candidate("fact", "Runs in a worker thread", 0.5)], T0)
    assert seen and threading.main_thread().name not in seen
    memory.close()


def test_the_schema_is_migrated_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    db = MemoryDatabase(path)
    db.add(ALICE, Candidate("fact", "Survives a restart", 0.5), T0)
    db.close()
    again = MemoryDatabase(path)
    assert [m.text for m in again.list(ALICE)] == ["Survives a restart"]
    version = again.db.execute("PRAGMA user_version").fetchone()[0]
    mode = again.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert (version, mode) == (len(MIGRATIONS), "wal")
    again.close()
    assert apsw.Connection(str(path)).execute(
        "SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'restart'").fetchone() == (1,)


class FakeEmbedder:
    """Bag-of-concepts vectors: words sharing a concept point the same way."""

    model = "fake:concepts"
    CONCEPTS: Sequence[set[str]] = ({"python", "language", "programming"},
                                    {"coffee", "espresso", "drink"}, {"data", "tasks"})

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]:
        return [[float(sum(w.strip("?.,").lower() in c for w in t.split())) + 0.01
                 for c in self.CONCEPTS] for t in texts]


async def test_embeddings_find_what_keywords_miss(tmp_path: Path) -> None:
    memory = SqliteMemoryStore(tmp_path / "m.db", MemorySettings(), embedder=FakeEmbedder())
    await memory.remember(ALICE, [Candidate("preference", "Espresso every morning", 0.5),
                                  Candidate("preference", "Python is my language", 0.5)], T0)
    recalled = await memory.recall(ALICE, "what drink do I like?", 5, T0)
    assert [r.memory.text for r in recalled] == ["Espresso every morning"]
    assert await memory.recall(BOB, "what drink do I like?", 5, T0) == ()
    memory.close()


async def test_the_store_serves_concurrent_callers(tmp_path: Path) -> None:
    memory = store(tmp_path)
    async with trio.open_nursery() as nursery:
        for n in range(20):
            nursery.start_soon(memory.remember, Scope(f"user{n % 4}", "w"),
                               [Candidate("fact", f"Fact number {n} about caching", 0.5)], T0)
    counts = [(await memory.stats(Scope(f"user{n}", "w"))).total for n in range(4)]
    assert counts == [5, 5, 5, 5]
    memory.close()



async def test_in_process_sentence_transformers_through_lynkr_embeddings(
        tmp_path: Path) -> None:
    """The real local path: lynkr.embeddings' LocalEmbedder on the test harness's tiny model."""
    pytest.importorskip("sentence_transformers")
    from harness.tiny_model import build_tiny_model

    from lynkr.config.embeddings import EmbeddingsSettings
    from lynkr.embeddings.local import LocalEmbedder
    from lynkr.memory.vectors import from_embedder

    model = await trio.to_thread.run_sync(build_tiny_model, tmp_path)
    embedder = from_embedder(LocalEmbedder(EmbeddingsSettings(provider="local",
                                                              model=str(model))))
    memory = SqliteMemoryStore(tmp_path / "m.db", MemorySettings(), embedder=embedder)
    await memory.remember(ALICE, [Candidate("fact", "the quick brown fox", 0.5),
                                  Candidate("fact", "python function return", 0.5)], T0)
    db = MemoryDatabase(tmp_path / "m.db")
    stored = db.vectors(ALICE, embedder.model)
    assert len(stored) == 2 and all(len(blob) == 32 * 4 for _, blob in stored)
    assert db.unembedded(ALICE, embedder.model) == []
    db.close()
    recalled = await memory.recall(ALICE, "fox", 5, T0)
    assert recalled[0].memory.text == "the quick brown fox"
    assert await memory.recall(BOB, "fox", 5, T0) == ()
    memory.close()


class DownEmbedder:
    model = "down:model"

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]:
        from lynkr.model.errors import UpstreamUnreachable

        raise UpstreamUnreachable("embeddings at http://127.0.0.1:9 is not answering")


async def test_a_failing_embedder_never_fails_recall_or_remember(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    down = SqliteMemoryStore(path, MemorySettings(), embedder=DownEmbedder())
    stored = await down.remember(ALICE, [Candidate("fact", "Kafka runs on three brokers", 0.5)],
                                 T0)
    assert len(stored) == 1
    assert [r.memory.text for r in await down.recall(ALICE, "kafka brokers", 5, T0)] == [
        "Kafka runs on three brokers"]
    down.close()
    up = SqliteMemoryStore(path, MemorySettings(), embedder=FakeEmbedder())
    assert await up.embed_missing(ALICE) == 1  # stored while the embedder was down
    assert await up.embed_missing(ALICE) == 0
    up.close()
