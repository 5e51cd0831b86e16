"""Which Redis client under trio: ops/s and latency per command of three ways, on one real
``redis-server`` started here on a free loopback port.

    python -m benchmarks.redis_clients [--ops 2000] [--json PATH]

1. ``lynkr.shared.resp``: our RESP2 client on trio streams (what Lynkr uses);
2. redis-py's synchronous client in ``trio.to_thread.run_sync`` behind a ``CapacityLimiter``
   (the usual way to use a blocking client from trio);
3. coredis (built on anyio, so it runs under trio) when it is installed.

Each runs the same command, ``EVALSHA`` of Lynkr's rate-limit script (the call every limited
request makes), sequentially (latency: one caller) and from 32 concurrent tasks (throughput),
after a warm-up; three interleaved rounds, medians reported. redis-py and coredis are
optional: a client that is not installed is listed as skipped (``pip install redis coredis``
to compare). First, what one admission of the ``RateLimiter`` port costs with each backend
(in-process, SQLite, Redis).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lynkr.auth.buckets import SqliteLimiter
from lynkr.governance.limits import LocalLimiter
from lynkr.shared.limits import ADMIT, RedisLimiter
from lynkr.shared.link import Link
from lynkr.shared.resp import Address, Pool

Call = Callable[[], Awaitable[Any]]
KEYS = ("lynkr:bench:requests", "lynkr:bench:tokens")
ARGS = ("1000000000", "0")  # a limit never reached: every call takes the same path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(call: Call, ops: int, concurrency: int) -> dict[str, float]:
    for _ in range(200):
        await call()
    latencies: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker, ops // concurrency)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "ops_per_s": round(len(latencies) / elapsed),
        "p50_us": round(latencies[len(latencies) // 2] * 1e6, 1),
        "p99_us": round(latencies[int(len(latencies) * 0.99)] * 1e6, 1),
    }


async def ours(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    pool = Pool(Address.parse(url), size=8)
    sha = await pool.call("SCRIPT", "LOAD", ADMIT)
    return (lambda: pool.call("EVALSHA", sha, 2, *KEYS, *ARGS)), pool.aclose


async def redis_py_threads(url: str) -> tuple[Call, Callable[[], Awaitable[None]]] | None:
    try:
        import redis
    except ImportError:
        return None
    client = redis.Redis.from_url(url, max_connections=8)
    sha = client.script_load(ADMIT)
    limiter = trio.CapacityLimiter(8)

    def run() -> Any:
        return client.evalsha(sha, 2, *KEYS, *ARGS)

    async def close() -> None:
        client.close()

    return (lambda: trio.to_thread.run_sync(run, limiter=limiter)), close


async def coredis_anyio(url: str) -> tuple[Call, Callable[[], Awaitable[None]]] | None:
    try:
        import coredis
    except ImportError:
        return None
    client: Any = coredis.Redis.from_url(url, decode_responses=False)
    await client.__aenter__()
    sha = await client.script_load(ADMIT)

    async def close() -> None:
        await client.__aexit__(None, None, None)

    return (lambda: client.evalsha(sha, KEYS, ARGS)), close


async def limiters(url: str, folder: str, ops: int) -> dict[str, Any]:
    """What one admission costs a request, per backend of the ``RateLimiter`` port."""
    link = Link(Address.parse(url))
    backends: dict[str, Any] = {
        "local (one process)": LocalLimiter(),
        "sqlite (--workers N)": SqliteLimiter(Path(folder) / "limits.db"),
        "redis (REDIS_URL)": RedisLimiter(link),
    }
    out: dict[str, Any] = {}
    for name, limiter in backends.items():

        async def admit(limiter: Any = limiter) -> Any:
            return await limiter.admit("bench", 1_000_000_000, None, 0.0)

        out[name] = await measure(admit, ops, 1)
    await link.aclose()
    return out


ROUNDS = 3  # interleaved, medians reported: the machine is shared and noisy


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


async def run(url: str, ops: int, folder: str) -> dict[str, Any]:
    out: dict[str, Any] = {"limiter admit, one caller": await limiters(url, folder, ops)}
    made: dict[str, tuple[Call, Callable[[], Awaitable[None]]]] = {}
    for name, make in (
        ("lynkr.shared.resp (trio streams)", ours),
        ("redis-py sync in trio.to_thread", redis_py_threads),
        ("coredis (anyio on trio)", coredis_anyio),
    ):
        client = await make(url)
        if client is None:
            out[name] = "skipped: not installed"
        else:
            made[name] = client
    runs: dict[tuple[str, int], list[dict[str, float]]] = {}
    for _ in range(ROUNDS):
        for name, (call, _close) in made.items():
            for concurrency in (1, 32):
                runs.setdefault((name, concurrency), []).append(
                    await measure(call, ops, concurrency)
                )
    for name, (_call, close) in made.items():
        out[name] = {
            "sequential": median_of(runs[(name, 1)]),
            "concurrent_32": median_of(runs[(name, 32)]),
        }
        await close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    server = shutil.which("redis-server")
    if server is None:
        print("redis-server not found (apt-get install redis-server)", file=sys.stderr)
        return 2
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            time.sleep(0.3)
            results = trio.run(run, f"redis://127.0.0.1:{port}/0", args.ops, folder)
        finally:
            process.terminate()
            process.wait()
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "python": platform.python_version(),
        "ops": args.ops,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
