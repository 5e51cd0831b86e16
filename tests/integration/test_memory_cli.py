"""``lynkr memory`` on a real database file: add, list, search, forget, stats, export, import."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from lynkr.cli import main


@pytest.fixture
def lynkr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMORY_DB_PATH", str(tmp_path / "mem" / "memory.db"))
    for name in ("MEMORY_DEFAULT_USER", "EMBEDDINGS_PROVIDER", "MEMORY_EMBEDDINGS"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["memory", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_add_list_search_forget(lynkr, tmp_path: Path) -> None:
    assert lynkr("add", "I prefer Python for data processing", "--type", "preference")[:2] == (
        0, "remembered #1\n")
    assert lynkr("add", "The CI runs on GitHub Actions")[0] == 0
    code, out, _ = lynkr("list")
    assert code == 0
    assert [line.split("  ")[-1] for line in out.splitlines()] == [
        "The CI runs on GitHub Actions", "I prefer Python for data processing"]
    code, out, _ = lynkr("search", "What language should I use for data tasks?", "--json")
    assert [orjson.loads(line)["text"] for line in out.splitlines()] == [
        "I prefer Python for data processing"]
    assert orjson.loads(out)["workspace"] == str(tmp_path)  # the current directory
    assert lynkr("forget", "1")[:2] == (0, "forgot 1 memories\n")
    code, out, err = lynkr("forget", "1")
    assert (code, "no memory 1" in err) == (1, True)
    assert lynkr("search", "data tasks")[1] == "no memories match\n"


def test_secrets_are_refused_with_a_message(lynkr) -> None:
    code, out, err = lynkr("add", "the deploy token: ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    assert (code, out) == (1, "")
    assert "secret" in err
    assert lynkr("list")[1] == ""


def test_users_and_workspaces_are_kept_apart(lynkr) -> None:
    lynkr("add", "Alice's doctor is Dr. Stone", "--user", "alice", "--workspace", "/w")
    lynkr("add", "Alice indents with tabs", "--user", "alice", "--workspace", "/w", "--global")
    assert lynkr("list", "--user", "bob", "--workspace", "/w")[1] == ""
    assert lynkr("search", "doctor", "--user", "bob", "--workspace", "/w")[1] == (
        "no memories match\n")
    out = lynkr("list", "--user", "alice", "--workspace", "/other")[1]
    assert out.endswith("Alice indents with tabs [global]\n")
    out = lynkr("stats", "--user", "alice", "--workspace", "/w", "--json")[1]
    stats = orjson.loads(out)
    assert (stats["total"], stats["global_count"], stats["by_kind"]) == (2, 1, {"fact": 2})
    assert lynkr("users")[1] == "alice\t(none)\t1\nalice\t/w\t1\n"
    assert lynkr("forget", "--all", "--user", "alice", "--workspace", "/w")[1] == (
        "forgot 1 memories\n")  # the global one stays


def test_export_then_import_round_trips(lynkr, tmp_path: Path) -> None:
    lynkr("add", "We decided to ship on Fridays", "--type", "decision", "--importance", "0.9",
          "--subject", "release day", "--user", "alice", "--workspace", "/w")
    lynkr("add", "Bob reviews the payments code", "--type", "relationship", "--user", "alice",
          "--workspace", "/w")
    code, exported, _ = lynkr("export", "--user", "alice", "--workspace", "/w")
    lines = [orjson.loads(line) for line in exported.splitlines()]
    assert [(x["kind"], x["text"], x["importance"], x["subject"]) for x in lines] == [
        ("decision", "We decided to ship on Fridays", 0.9, "release day"),
        ("relationship", "Bob reviews the payments code", 0.7, "")]
    dump = tmp_path / "alice.jsonl"
    dump.write_text(exported + "not json\n\n", encoding="utf-8")
    code, out, err = lynkr("import", str(dump), "--user", "carol", "--workspace", "/c")
    assert (code, out) == (1, "imported 2 memories, skipped 1\n")
    assert "line 3" in err
    code, again, _ = lynkr("export", "--user", "carol", "--workspace", "/c")
    strip = lambda x: {k: v for k, v in x.items() if k not in ("user", "workspace")}  # noqa: E731
    assert [strip(orjson.loads(line)) for line in again.splitlines()] == [strip(x) for x in lines]


def test_check_shows_the_memory_configuration(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from lynkr.check import effective
    from lynkr.config.settings import load_settings

    monkeypatch.chdir(tmp_path)
    settings = load_settings({"MEMORY_RETRIEVAL_LIMIT": "3", "MEMORY_ENABLED": "false"})
    shown = effective(settings)["memory"]
    assert (shown["retrieval_limit"], shown["enabled"], shown["max_count"]) == (3, False, 10_000)
