"""The Responses conversation store on a real SQLite file through apsw."""

from __future__ import annotations

from pathlib import Path

import apsw

from lynkr.model import Message, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.storage.responses import ResponseStore, dump_conversation, load_conversation
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
    await store.save("resp_a", "m", CONVERSATION, now=1000.0)
    store.close()
    reopened = ResponseStore(path, retention_s=60)
    assert await reopened.load("resp_a", now=1030.0) == CONVERSATION
    assert await reopened.load("resp_b", now=1030.0) is None
    reopened.close()


async def test_expired_entries_are_not_returned_and_are_pruned(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path / "x.db", retention_s=10)
    await store.save("resp_old", "m", CONVERSATION, now=100.0)
    assert await store.load("resp_old", now=111.0) is None
    await store.save("resp_new", "m", CONVERSATION, now=200.0)  # prunes resp_old
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
