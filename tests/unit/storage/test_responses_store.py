"""The Responses conversation store on a real SQLite file through apsw."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from lynkr.model import Message, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.storage.responses import (
    ResponseStore,
    StoreQuota,
    dump_conversation,
    load_conversation,
    new_response_id,
)
from lynkr.storage.sqlite import MIGRATIONS, open_db

CONVERSATION = (
    Message("user", (TextBlock("list files"),)),
    Message("assistant", (ToolUseBlock("call_1", "Bash", {"command": "ls"}),)),
    Message("user", (ToolResultBlock("call_1", (TextBlock("a.py"),), is_error=True),)),
    Message("assistant", (TextBlock("One file."),)),
)


def test_conversation_round_trips_through_json() -> None:
    assert load_conversation(dump_conversation(CONVERSATION)) == CONVERSATION


async def test_saved_conversation_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "data" / "lynkr.db"
    store = ResponseStore(path, retention_s=60)
    await store.save("resp_a", "alice", "m", CONVERSATION, now=1000.0)
    store.close()
    reopened = ResponseStore(path, retention_s=60)
    assert await reopened.load("resp_a", "alice", now=1030.0) == CONVERSATION
    assert await reopened.load("resp_b", "alice", now=1030.0) is None
    reopened.close()


async def test_expired_entries_are_not_returned_and_are_pruned(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "x.db", retention_s=10)
    await store.save("resp_old", "alice", "m", CONVERSATION, now=100.0)
    assert await store.load("resp_old", "alice", now=111.0) is None
    await store.save("resp_new", "alice", "m", CONVERSATION, now=200.0)  # prunes resp_old
    store.close()
    db = apsw.Connection(str(tmp_path / "x.db"))
    ids = [row[0] for row in db.execute("SELECT id FROM responses")]
    assert ids == ["resp_new"]


def test_migrations_run_once_and_set_wal(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    open_db(path).close()
    db = open_db(path)  # a second open must not re-run the CREATE statements
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_another_caller_can_neither_read_nor_replace_a_conversation(
        tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "o.db", retention_s=60)
    await store.save("resp_x", "alice", "m", CONVERSATION, now=1.0)
    assert await store.load("resp_x", "mallory", now=2.0) is None
    with pytest.raises(apsw.ConstraintError):  # the same id never overwrites
        await store.save("resp_x", "mallory", "m", CONVERSATION[:1], now=2.0)
    assert await store.load("resp_x", "alice", now=3.0) == CONVERSATION
    store.close()


def test_response_ids_are_random_and_long() -> None:
    ids = {new_response_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("resp_") and len(i) == 5 + 48 for i in ids)


async def test_quota_per_caller_drops_their_oldest_and_spares_others(tmp_path: Path) -> None:
    size = len(dump_conversation(CONVERSATION))
    store = ResponseStore(tmp_path / "q.db", retention_s=600,
                          quota=StoreQuota(owner_bytes=3 * size, total_bytes=5 * size))
    await store.save("resp_bob", "bob", "m", CONVERSATION, now=0.0)
    for i in range(5):
        assert await store.save(f"resp_{i}", "alice", "m", CONVERSATION, now=1.0 + i)
    kept = [i for i in range(5) if await store.load(f"resp_{i}", "alice", now=9.0)]
    assert kept == [2, 3, 4]
    assert await store.load("resp_bob", "bob", now=9.0) == CONVERSATION
    for i in range(3):  # everyone's total: now the oldest overall goes, bob's included
        await store.save(f"resp_c{i}", "carol", "m", CONVERSATION, now=20.0 + i)
    assert await store.load("resp_bob", "bob", now=30.0) is None
    total = store._connection().execute("SELECT SUM(size) FROM responses").fetchone()[0]
    assert total <= 5 * size
    store.close()


async def test_an_entry_larger_than_the_callers_quota_is_not_kept(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "big.db", retention_s=600,
                          quota=StoreQuota(owner_bytes=100))
    assert not await store.save("resp_big", "alice", "m", CONVERSATION, now=0.0)
    assert await store.load("resp_big", "alice", now=1.0) is None
    store.close()


async def test_rows_from_before_owners_existed_are_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = apsw.Connection(str(path))
    db.execute(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    db.execute("INSERT INTO responses VALUES ('resp_legacy', 1.0, 'm', ?)",
               (dump_conversation(CONVERSATION),))
    db.close()
    store = ResponseStore(path, retention_s=600)
    assert await store.load("resp_legacy", "alice", now=2.0) is None
    store.close()
