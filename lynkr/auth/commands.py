"""``lynkr keys create | list | revoke`` and ``lynkr usage``: inbound keys and what they spent,
in the key database (``LYNKR_KEYS_DB_PATH``). The key is printed once, at creation; only its
hash is kept."""

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
from lynkr.ports import UsageLedger


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _dollars(text: str) -> float:
    value = float(text.removeprefix("$"))
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive amount, got {text}")
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
    create.add_argument("--budget-usd", type=_dollars,
                        help="US dollars per --budget-window, priced from config/prices.yaml")
    create.add_argument("--budget-window", choices=WINDOWS, default="month",
                        help="UTC day or calendar month (default month)")
    listing = actions.add_parser("list", help="every key, active and revoked (never the key)")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    revoke = actions.add_parser("revoke", help="stop a user's active key at its next request")
    revoke.add_argument("name")
    _usage_arguments(actions.add_parser("usage", help="the same as lynkr usage"))
    _usage_arguments(sub.add_parser("usage", help="spend per key, model and UTC day"))


def _usage_arguments(usage: Any) -> None:
    usage.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    usage.add_argument("--days", type=_positive, help="only the last N UTC days")
    usage.add_argument("--key", help="only this key's usage")


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    store = KeyStore(settings.access.keys_db_path)
    action = "usage" if args.command == "usage" else args.action
    try:
        if action == "create":
            try:
                key, record = store.create(args.name, time.time(), args.rpm, args.tpm,
                                           args.budget, args.budget_window, args.budget_usd)
            except (KeyExists, ValueError) as exc:
                print(f"lynkr: {exc}", file=sys.stderr)
                return 1
            print(key, file=out)
            print(f"key for {record.name} created; it is shown only this once. Clients send "
                  "it as x-api-key or Authorization: Bearer.", file=sys.stderr)
            return 0
        if action == "revoke":
            if store.revoke(args.name, time.time()):
                print(f"revoked the key of {args.name}", file=out)
                return 0
            print(f"lynkr: no active key named {args.name!r}", file=sys.stderr)
            return 1
        if action == "usage":
            return usage_report(store.ledger, args, out)
        for entry in store.list():
            budgeted = entry.budget_tokens is not None or entry.budget_usd is not None
            spent = store.ledger.spent(entry.name, window_start(time.time(), entry.budget_window)) \
                if budgeted else None
            _row({"name": entry.name, "key": entry.shown + "…", "created": _when(entry.created_at),
                  "revoked": _when(entry.revoked_at) if entry.revoked_at else None,
                  "rpm": entry.rpm, "tpm": entry.tpm, "budget_tokens": entry.budget_tokens,
                  "budget_usd": entry.budget_usd,
                  "budget_window": entry.budget_window if budgeted else None,
                  "budget_used_tokens": spent.tokens if spent else None,
                  "budget_used_usd": round(spent.usd, 6) if spent else None}, args.json, out)
        return 0
    finally:
        store.close()


def usage_report(ledger: UsageLedger, args: argparse.Namespace, out: TextIO) -> int:
    """Spend per key, model and UTC day (``lynkr usage``): a table with a total line, or JSON
    lines."""
    since = window_start(time.time() - (args.days - 1) * 86_400, "day") if args.days else 0.0
    rows = [r for r in ledger.report(since) if args.key is None or r.key == args.key]
    records = [{"day": _when(r.day)[:10], "key": r.key or "-", "model": r.model or "(unknown)",
                "requests": r.requests, "input": r.usage.input_tokens,
                "output": r.usage.output_tokens, "cache_read": r.usage.cache_read_input_tokens,
                "cache_write": r.usage.cache_creation_input_tokens, "tokens": r.tokens,
                "cost_usd": round(r.cost_usd, 6)} for r in rows]
    if args.json:
        for record in records:
            print(orjson.dumps(record).decode(), file=out)
        return 0
    if not records:
        print("no usage booked yet", file=out)
        return 0
    total: dict[str, Any] = {"day": "total", "key": "", "model": ""}
    for name in ("requests", "input", "output", "cache_read", "cache_write", "tokens",
                 "cost_usd"):
        total[name] = sum(r[name] for r in records)
    table = [list(records[0]), *([_cell(v) for v in r.values()] for r in [*records, total])]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip(),
              file=out)
    return 0


def _cell(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _row(row: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        print(orjson.dumps(row).decode(), file=out)
    else:
        print("  ".join(f"{k}={v}" for k, v in row.items() if v is not None), file=out)


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
