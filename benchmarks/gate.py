"""What inbound keys, rate limits and budgets add to a request: the same streaming 49 KB
Claude Code request through two Lynkr processes that differ only in the gate, as a ratio.

    python -m benchmarks.gate [--quick] [--json PATH]

``off`` runs with keys off (``LYNKR_AUTH=off``, no budgets); ``key_only`` asks for a key with no
limits or budgets (the lookup alone); ``gate`` asks for a key whose every check runs and never
refuses: requests and tokens per minute, a token budget and a
money budget per day, and a session budget (``LYNKR_SESSION_BUDGET_USD``), priced from a price
table that prices the fake model, so each request does the key lookup, two budget sums from
the ledger (the key's, the session's), the limiter's admit, the rate-limit headers, and books
its usage (a ledger upsert, the limiter's charge) as the answer goes out.

All three are pinned to the same CPU, with the fake upstream and this load generator on another,
and measured in interleaved rounds (machine drift hits both alike), concurrency 1: latency
p50/p99 and Lynkr's CPU time per request (``/proc/PID/stat``). Then the gate's own work is
timed in-process, call by call, on a real key database (``--micro``): the microseconds each
check costs. ``--redis`` adds a fourth side: the gate with ``REDIS_URL`` pointing at a
``redis-server`` this starts on loopback (limits and budgets shared through Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/gate.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loadgen, request_49k
from benchmarks.overhead import (
    CLK_TCK,
    HOST,
    ROOT,
    cpu_ticks,
    free_port,
    set_priority,
    start,
    stop,
    wait_http,
)

PRICES = "providers:\n  openai:\n    '*': {input: 3.0, output: 15.0, cache_read: 0.3}\n"
RPM, TPM = 1_000_000, 1_000_000_000  # limits that are checked on every request, never reached
BIG: dict[str, Any] = {
    "rpm": RPM,
    "tpm": TPM,
    "budget_tokens": 10**12,
    "budget_window": "day",
    "budget_usd": 10.0**9,
}
SESSION = {"LYNKR_SESSION_BUDGET_USD": "1000000000", "LYNKR_SESSION_BUDGET_TOKENS": str(10**12)}


def keyed_request(port: int, key: str | None) -> bytes:
    """The 49 KB streaming request, with ``key`` in x-api-key as Claude Code sends it."""
    raw = request_49k.http_request(HOST, port, stream=True)
    if key is None:
        return raw
    head, _, body = raw.partition(b"\r\n\r\n")
    return head + f"\r\nx-api-key: {key}".encode() + b"\r\n\r\n" + body


def make_key(folder: Path, name: str = "keys.db", limits: dict[str, Any] = BIG) -> str:
    from lynkr.auth.store import KeyStore

    store = KeyStore(folder / name)
    try:
        key, _ = store.create("bench", time.time(), **limits)
    finally:
        store.close()
    return key


async def phase(port: int, pid: int, request: bytes, total: int) -> dict[str, float]:
    gen = await loadgen.LoadGen.open(HOST, port, 1, request, loadgen.anthropic_stream_ok)
    try:
        await gen.phase(max(10, total // 10))  # warm-up
        before = cpu_ticks(pid)
        result = await gen.phase(total)
        spent = cpu_ticks(pid) - before
    finally:
        gen.close()
    if result.errors:
        raise SystemExit(f"errors: {result.first_error}")
    figures = loadgen.summary(result)
    return {
        "p50_ms": float(figures["p50_ms"] or 0),
        "p99_ms": float(figures["p99_ms"] or 0),
        "cpu_ms": spent / CLK_TCK * 1000 / total,
    }


async def end_to_end(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    (folder / "prices.yaml").write_text(PRICES)
    key = make_key(folder)
    up_port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), LOG_LEVEL="warning")
    cpus = sorted(os.sched_getaffinity(0))
    plain = folder / "plain-keys.db"
    plain_key = make_key(plain.parent, plain.name, {})
    sides = {
        "off": ({"LYNKR_AUTH": "off"}, None),
        "key_only": ({"LYNKR_AUTH": "keys", "LYNKR_KEYS_DB_PATH": str(plain)}, plain_key),
        "gate": (
            {
                "LYNKR_AUTH": "keys",
                "LYNKR_KEYS_DB_PATH": str(folder / "keys.db"),
                "LYNKR_PRICES": str(folder / "prices.yaml"),
                **SESSION,
            },
            key,
        ),
    }
    procs = []
    try:
        if args.redis:  # the same gate with limits and budgets shared through Redis
            redis_port = free_port()
            redis = [
                args.redis,
                "--port",
                str(redis_port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            procs.append(start(redis, env, cpus[0], folder / "redis.log", args.nice))
            redis_env = {**sides["gate"][0], "REDIS_URL": f"redis://{HOST}:{redis_port}/0"}
            sides["gate_redis"] = (redis_env, key)
        upstream = [sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port)]
        procs.append(start(upstream, env, cpus[0], folder / "upstream.log", args.nice))
        ports: dict[str, tuple[int, int, bytes]] = {}
        for name, (extra, side_key) in sides.items():
            port = free_port()
            lynkr_env = dict(
                env,
                MODEL_PROVIDER="openai",
                OPENAI_API_KEY="bench",
                OPENAI_ENDPOINT=f"http://{HOST}:{up_port}/v1",
                PORT=str(port),
                **extra,
            )
            log = folder / f"lynkr-{name}.log"
            proc = start(
                [sys.executable, "-m", "lynkr", "start"], lynkr_env, cpus[-1], log, args.nice
            )
            procs.append(proc)
            await wait_http(port, "/health/live", proc, log)
            ports[name] = (port, proc.pid, keyed_request(port, side_key))
        status, body = await loadgen.fetch(HOST, ports["gate"][0], ports["gate"][2])
        assert status == 200 and loadgen.anthropic_stream_ok(status, body), body[:300]
        status, _ = await loadgen.fetch(HOST, ports["gate"][0], ports["off"][2])
        assert status == 401, "the gate side must ask for its key"
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, (port, pid, request) in ports.items():
                rounds[name].append(await phase(port, pid, request, args.requests))
    finally:
        for proc in procs:
            stop(proc)
    out: dict[str, Any] = {}
    for name, values in rounds.items():
        out[name] = {
            k: round(statistics.median(v[k] for v in values), 3)
            for k in ("p50_ms", "p99_ms", "cpu_ms")
        }
        # the least-disturbed round too: contention only ever adds
        out[name].update(
            {f"min_{k}": round(min(v[k] for v in values), 3) for k in ("p50_ms", "cpu_ms")}
        )
    for side in [name for name in rounds if name != "off"]:
        for k in ("p50_ms", "cpu_ms", "min_p50_ms", "min_cpu_ms"):
            base = out["off"][k]
            out[side][f"ratio_{k.removesuffix('_ms')}"] = round(out[side][k] / base, 3)
            out[side][f"added_{k}"] = round(out[side][k] - base, 3)
    out["rounds"], out["requests_per_round"] = args.rounds, args.requests
    return out


def micro(folder: Path, n: int) -> dict[str, float]:
    """Microseconds per call of each check the gate makes, on a real key database."""
    from lynkr.auth.store import KeyStore
    from lynkr.config.access import AccessSettings
    from lynkr.governance.headers import ratelimit_headers
    from lynkr.governance.limits import LocalLimiter
    from lynkr.model.events import MessageDelta, Usage
    from lynkr.observability.cost import load_prices
    from lynkr.observability.metrics import Metrics
    from lynkr.server.spending import Spending, UsageTap

    (folder / "micro-prices.yaml").write_text(PRICES)
    store = KeyStore(folder / "micro-keys.db")
    key, _ = store.create("micro", time.time(), **BIG)
    config = AccessSettings(session_budget_usd=1e9, session_budget_tokens=10**12)
    spending = Spending(store.ledger, load_prices(folder / "micro-prices.yaml"), config, Metrics())
    limiter = LocalLimiter()
    record = store.find(key)
    assert record is not None
    delta = [MessageDelta("end_turn", Usage(12150, 20, 0, 0))]
    session = "00000000-0000-4000-8000-000000000002"

    def now(result: Any) -> Any:
        """An awaitable that never suspends (the in-process limiter's ``admit``), run to its
        value without an event loop; anything else as it is."""
        if not hasattr(result, "send"):
            return result
        try:
            result.send(None)
        except StopIteration as done:
            return done.value
        raise RuntimeError("the in-process limiter suspended")

    def timed(step: Any) -> float:
        for _ in range(min(n // 10, 200)):
            step()
        started = time.perf_counter_ns()
        for _ in range(n):
            step()
        return round((time.perf_counter_ns() - started) / n / 1000, 2)

    def book() -> None:
        UsageTap(
            spending,
            "micro",
            session,
            "openai",
            "fake-model",
            lambda t: limiter.charge("micro", t, 0.0),
        ).observe(delta)

    figures = {
        "find_key_us": timed(lambda: store.find(key)),
        "budgets_us": timed(lambda: spending.refusal(record, session, time.time())),
        "admit_and_headers_us": timed(
            lambda: ratelimit_headers(now(limiter.admit("micro", RPM, TPM, 0.0)), True, time.time())
        ),
        "book_usage_us": timed(book),
    }
    figures["total_us"] = round(sum(figures.values()), 2)
    store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="4 rounds of 150 requests")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--micro", type=int, default=20_000, help="calls per check timed (0: none)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--nice", type=int, help="as root: e.g. -10, shields the run from load")
    parser.add_argument(
        "--redis",
        nargs="?",
        const="redis-server",
        metavar="REDIS_SERVER",
        help="also the gate with REDIS_URL (a redis-server started here)",
    )
    args = parser.parse_args(argv)
    if args.nice is not None:
        set_priority(args.nice)
    if args.quick:
        args.rounds, args.requests, args.micro = 4, 150, 5_000
    folder = Path(tempfile.mkdtemp(prefix="lynkr-gate-"))
    report = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "nice": args.nice,
        "micro": micro(folder, args.micro) if args.micro else None,
        "end_to_end": asyncio.run(end_to_end(args, folder)),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
