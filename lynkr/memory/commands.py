"""``lynkr memory``: list, search, add, forget, stats, export and import (JSON lines), per user
and workspace, on the memory database (``MEMORY_DB_PATH``).

The workspace defaults to the current directory, which is what Claude Code reports when it is
started there; ``--user`` defaults to ``MEMORY_DEFAULT_USER`` (``lynkr memory users`` lists the
users and workspaces that have memories).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import attrs
import orjson
import trio

from lynkr.config.memory import MemorySettings, memory_settings
from lynkr.config.settings import Env, Settings
from lynkr.memory.build import build_memory_store
from lynkr.memory.database import MemoryDatabase, SecretRefused
from lynkr.model.memory import KINDS, Candidate, Memory, Scope

EXPORTED = ("kind", "text", "importance", "subject", "is_global", "created_at", "last_used_at",
            "use_count", "session_id", "request_id", "user", "workspace")


def add_parser(sub: Any) -> None:
    """Register ``lynkr memory ...`` on the top-level subparsers."""
    memory = sub.add_parser("memory", help="inspect and manage long-term memory")
    actions = memory.add_subparsers(dest="action", required=True)
    scoped = argparse.ArgumentParser(add_help=False)
    scoped.add_argument("--user", help="whose memories (default: MEMORY_DEFAULT_USER)")
    scoped.add_argument("--workspace", help="which workspace (default: the current directory)")
    scoped.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    listing = actions.add_parser("list", parents=[scoped], help="newest first")
    listing.add_argument("--limit", type=int, default=50)
    search = actions.add_parser("search", parents=[scoped], help="what a request would recall")
    search.add_argument("query")
    search.add_argument("--limit", type=int, help="default: MEMORY_RETRIEVAL_LIMIT")
    add = actions.add_parser("add", parents=[scoped], help="remember something")
    add.add_argument("text")
    add.add_argument("--type", choices=KINDS, default="fact", dest="kind")
    add.add_argument("--importance", type=float, default=0.7)
    add.add_argument("--subject", default="", help="a newer memory on it replaces the older")
    add.add_argument("--global", action="store_true", dest="is_global",
                     help="seen in every workspace of this user")
    forget = actions.add_parser("forget", parents=[scoped], help="delete memories")
    forget.add_argument("ids", nargs="*", type=int)
    forget.add_argument("--all", action="store_true",
                        help="every memory of this workspace (global ones stay)")
    actions.add_parser("stats", parents=[scoped], help="counts by type")
    export = actions.add_parser("export", parents=[scoped], help="JSON lines to stdout")
    export.add_argument("--all-workspaces", action="store_true")
    importer = actions.add_parser("import", parents=[scoped], help="JSON lines from a file")
    importer.add_argument("file", help="a file written by export, or - for stdin")
    actions.add_parser("users", help="users and workspaces that have memories")


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    config = memory_settings(Env(settings.environ))
    user = getattr(args, "user", None) or config.default_user
    given = getattr(args, "workspace", None)  # "" means memories without a workspace
    workspace = os.getcwd() if given is None else os.path.abspath(given) if given else ""
    scope = Scope(user, workspace)
    if args.action == "search":
        return _search(args, settings, config, scope, out)
    db = MemoryDatabase(config.db_path)
    try:
        return _ACTIONS[args.action](args, db, scope, out)
    finally:
        db.close()


def _search(args: argparse.Namespace, settings: Settings, config: MemorySettings, scope: Scope,
            out: TextIO) -> int:
    store = build_memory_store(settings, config)
    limit = args.limit or config.retrieval_limit
    recalled = trio.run(lambda: store.recall(scope, args.query, limit, time.time(),
                                             touch=False))
    store.close()
    for r in recalled:
        if args.json:
            out.write(orjson.dumps({**_exported(r.memory), "id": r.memory.id,
                                    "score": round(r.score, 4)}).decode() + "\n")
        else:
            out.write(f"{r.score:.3f}  {_row(r.memory)}\n")
    if not recalled and not args.json:
        out.write("no memories match\n")
    return 0


def _list(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    _print(db.list(scope, limit=args.limit), args.json, out)
    return 0


def _add(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    candidate = Candidate(args.kind, args.text, args.importance, args.subject, args.is_global)
    try:
        memory = db.add(scope, candidate, time.time())
    except (SecretRefused, ValueError) as exc:
        print(f"lynkr: {exc}", file=sys.stderr)
        return 1
    out.write(f"remembered #{memory.id}\n")
    return 0


def _forget(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    if args.all:
        out.write(f"forgot {db.forget_all(scope)} memories\n")
        return 0
    missing = [i for i in args.ids if not db.forget(scope, i)]
    out.write(f"forgot {len(args.ids) - len(missing)} memories\n")
    if missing:
        print(f"lynkr: no memory {', '.join(map(str, missing))} for user {scope.user!r} in "
              f"{scope.workspace or 'no workspace'}", file=sys.stderr)
        return 1
    return 0


def _stats(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    stats = db.stats(scope)
    if args.json:
        out.write(orjson.dumps({"user": scope.user, "workspace": scope.workspace,
                                **attrs.asdict(stats)}).decode() + "\n")
        return 0
    kinds = ", ".join(f"{k} {n}" for k, n in stats.by_kind.items()) or "none"
    out.write(f"user {scope.user}, workspace {scope.workspace or '(none)'}: {stats.total} "
              f"memories ({kinds}; {stats.global_count} global)\n")
    if stats.total:
        out.write(f"oldest {_date(stats.oldest)}, newest {_date(stats.newest)}\n")
    return 0


def _export(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    workspace = None if args.all_workspaces else scope.workspace
    for memory in db.export(scope.user, workspace):
        out.write(orjson.dumps(_exported(memory)).decode() + "\n")
    return 0


def _import(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")  # noqa: SIM115
    stored = refused = 0
    try:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                item = orjson.loads(line)
                target = Scope(args.user or item.get("user") or scope.user,
                               item["workspace"] if args.workspace is None and "workspace" in item
                               else scope.workspace)
                db.import_memory(target, _candidate(item), float(item["created_at"]),
                                 float(item.get("last_used_at", item["created_at"])),
                                 int(item.get("use_count", 0)), item.get("session_id"),
                                 item.get("request_id"))
                stored += 1
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                refused += 1
                print(f"lynkr: line {number} skipped: {exc}", file=sys.stderr)
    finally:
        if stream is not sys.stdin:
            stream.close()
    out.write(f"imported {stored} memories" + (f", skipped {refused}" if refused else "") + "\n")
    return 1 if refused else 0


def _users(args: argparse.Namespace, db: MemoryDatabase, scope: Scope, out: TextIO) -> int:
    for user, workspace, count in db.owners():
        out.write(f"{user}\t{workspace or '(none)'}\t{count}\n")
    return 0


_ACTIONS = {"list": _list, "add": _add, "forget": _forget, "stats": _stats, "export": _export,
            "import": _import, "users": _users}


def _candidate(item: dict[str, Any]) -> Candidate:
    return Candidate(item["kind"], item["text"], float(item.get("importance", 0.5)),
                     str(item.get("subject", "")), bool(item.get("is_global", False)))


def _exported(memory: Memory) -> dict[str, Any]:
    return {k: getattr(memory, k) for k in EXPORTED}


def _print(memories: Iterable[Memory], as_json: bool, out: TextIO) -> None:
    for memory in memories:
        if as_json:
            out.write(orjson.dumps({"id": memory.id, **_exported(memory)}).decode() + "\n")
        else:
            out.write(_row(memory) + "\n")


def _row(memory: Memory) -> str:
    where = " [global]" if memory.is_global else ""
    return (f"#{memory.id}  {memory.kind:<12} {memory.importance:.2f}  "
            f"{_date(memory.created_at)}  {memory.text}{where}")


def _date(seconds: float | None) -> str:
    return "-" if seconds is None else datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d")
