"""``lynkr keys create | list | revoke | usage``: inbound keys in the key database
(``LYNKR_KEYS_DB_PATH``). The key is printed once, at creation; only its hash is kept."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any, TextIO

import orjson

from lynkr.auth.store import KeyExists, KeyStore
from lynkr.config.settings import Settings
from lynkr.governance.budget import WINDOWS, window_start


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="create, list and revoke inbound API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new key for a user; printed once")
    create.add_argument("--name", required=True, help="who the key is for (the user in logs)")
    create.add_argument("--rpm", type=_positive, help="requests per minute")
    create.add_argument("--tpm", type=_positive, help="tokens per minute")
    create.add_argument("--budget", type=_positive,
                        help="tokens per --budget-window, counted from upstream usage")
    create.add_argument("--budget-window", choices=WINDOWS, default="month",
                        help="UTC day or calendar month (default month)")
    listing = actions.add_parser("list", help="every key, active and revoked (never the key)")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    revoke = actions.add_parser("revoke", help="stop a user's active key at its next request")
    revoke.add_argument("name")
    usage = actions.add_parser("usage", help="tokens per key and UTC day")
    usage.add_argument("--json", action="store_true", help="JSON lines instead of a table")


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    store = KeyStore(settings.access.keys_db_path)
    try:
        if args.action == "create":
            try:
                key, record = store.create(args.name, time.time(), args.rpm, args.tpm,
                                           args.budget, args.budget_window)
            except (KeyExists, ValueError) as exc:
                print(f"lynkr: {exc}", file=sys.stderr)
                return 1
            print(key, file=out)
            print(f"key for {record.name} created; it is shown only this once. Clients send "
                  "it as x-api-key or Authorization: Bearer.", file=sys.stderr)
            return 0
        if args.action == "revoke":
            if store.revoke(args.name, time.time()):
                print(f"revoked the key of {args.name}", file=out)
                return 0
            print(f"lynkr: no active key named {args.name!r}", file=sys.stderr)
            return 1
        if args.action == "usage":
            for name, day, tokens in store.usage_by_day():
                _row({"key": name, "day": _when(day)[:10], "tokens": tokens}, args.json, out)
            return 0
        for key in store.list():
            budget = key.budget_tokens
            _row({"name": key.name, "key": key.shown + "…", "created": _when(key.created_at),
                  "revoked": _when(key.revoked_at) if key.revoked_at else None,
                  "rpm": key.rpm, "tpm": key.tpm, "budget_tokens": budget,
                  "budget_window": key.budget_window if budget else None,
                  "budget_used": store.usage(key.name, window_start(time.time(),
                                                                    key.budget_window))
                  if budget else None}, args.json, out)
        return 0
    finally:
        store.close()


def _row(row: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        print(orjson.dumps(row).decode(), file=out)
    else:
        print("  ".join(f"{k}={v}" for k, v in row.items() if v is not None), file=out)


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
