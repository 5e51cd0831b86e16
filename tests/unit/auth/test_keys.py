"""Inbound keys: how each client's header form is read, and the key store on real SQLite."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from lynkr.auth.keys import key_hash, new_key, presented_key, same_hash
from lynkr.auth.store import MIGRATIONS, KeyExists, KeyStore


@pytest.mark.parametrize(("headers", "anthropic", "expected"), [
    ([(b"x-api-key", b"lk-a")], True, "lk-a"),
    ([(b"authorization", b"Bearer lk-b")], True, "lk-b"),
    ([(b"authorization", b"bearer  lk-b ")], False, "lk-b"),
    ([(b"authorization", b"Bearer lk-b")], False, "lk-b"),
    # OpenAI clients send no x-api-key: one there is not theirs to present
    ([(b"x-api-key", b"lk-a")], False, None),
    ([(b"x-api-key", b"lk-a"), (b"authorization", b"Bearer lk-b")], True, "lk-a"),
    ([(b"authorization", b"Basic dXNlcjpwYXNz")], True, None),
    ([(b"authorization", b"Bearer ")], False, None),
    ([(b"x-api-key", b"")], True, None),
    ([], True, None),
])
def test_presented_key_per_dialect_and_header_form(
        headers: list[tuple[bytes, bytes]], anthropic: bool, expected: str | None) -> None:
    assert presented_key(headers, anthropic) == expected


def test_keys_are_random_and_compared_by_hash() -> None:
    first, second = new_key(), new_key()
    assert first != second and first.startswith("lk-") and len(first) > 40
    assert same_hash(key_hash(first), key_hash(first))
    assert not same_hash(key_hash(first), key_hash(second))


def test_store_keeps_only_the_hash_and_finds_active_keys(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key, record = store.create("alice", 1000.0, rpm=5, tpm=100, budget_tokens=9)
    assert store.find(key) == record and record.rpm == 5 and record.tpm == 100
    assert store.find(key + "x") is None and store.find("") is None
    assert store.any_active()
    store.close()
    raw = (tmp_path / "keys.db").read_bytes() + _wal(tmp_path)
    assert key.encode() not in raw and key_hash(key).encode() in raw


def _wal(folder: Path) -> bytes:
    wal = folder / "keys.db-wal"
    return wal.read_bytes() if wal.exists() else b""


def test_revoked_keys_stop_and_the_name_can_have_a_new_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    old, _ = store.create("alice", 1.0)
    with pytest.raises(KeyExists):
        store.create("alice", 2.0)
    assert store.revoke("alice", 3.0) and not store.revoke("alice", 4.0)
    assert store.find(old) is None and not store.any_active()
    new, _ = store.create("alice", 5.0)
    assert store.find(new) is not None and store.find(old) is None
    assert [(k.name, k.active) for k in store.list()] == [("alice", False), ("alice", True)]
    with pytest.raises(ValueError, match="name"):
        store.create("  ", 6.0)


def test_the_schema_is_migrated_once(tmp_path: Path) -> None:
    KeyStore(tmp_path / "keys.db").close()
    KeyStore(tmp_path / "keys.db").close()
    version = apsw.Connection(str(tmp_path / "keys.db")).execute(
        "PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)
