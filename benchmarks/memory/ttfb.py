"""Time to first byte with long-term memory on and off: is extraction on the client's path?

    python -m benchmarks.memory.ttfb [--requests 300] [--memories 10000] [--json FILE]

One fake upstream (``benchmarks.fast_upstream``, a token-paced stream) and three Lynkr
processes on the default pipeline, differing only in memory:

- ``off``: ``MEMORY_ENABLED=false``;
- ``recall``: memory on, but a pipeline without ``memory_extract`` (recall and injection only);
- ``on``: memory on, the default pipeline (recall, injection, and extraction after each answer).

Each side's database starts with ``--memories`` memories for the asking user (so recall does
real work). Requests go one at a time, rotating between the three sides, each a new Claude
Code-like session whose user turn states something worth remembering (from the labelled turns
of ``benchmarks.memory.turns``), so on ``on`` the background worker is learning from the
previous answer while the next request arrives. Reported per side: TTFB (request sent to the
first body byte) and whole-answer time, p50 and p95 in ms; for ``on``, how many memories the
worker stored meanwhile (read from its database afterwards). ``on`` vs ``recall`` is the cost of
extraction on the client's path (the goal: none beyond noise); ``recall`` vs ``off`` is what
recalling and injecting costs before the first byte.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.memory.turns import labelled_turns
from benchmarks.overhead import HOST, ROOT, free_port, start, stop, wait_http
from lynkr.memory.database import MemoryDatabase
from lynkr.model.memory import Candidate, Scope

WORKSPACE = "/bench/project"
DEVICE = "bench-device"
USER = Scope(f"device:{DEVICE}", WORKSPACE)
SIDES = ("off", "recall", "on")
NO_EXTRACT = """\
name: default-without-extraction
stages:
  - normalize
  - route
  - map_model
  - capability_filter
  - tool_selection:
      max_description_tokens: 200
      strip_schema_descriptions: true
  - truncate_tool_results:
      limits: {Read: 4000, Bash: 1500, Grep: 1000, default: 2000}
  - compress_history
  - dedupe
  - memory_inject
  - cache_breakpoints
  - prompt_cache
  - egress
"""
WORDS = (
    "deploy",
    "service",
    "database",
    "cluster",
    "release",
    "review",
    "editor",
    "python",
    "staging",
    "billing",
    "search",
    "payments",
    "tests",
    "linter",
    "queue",
    "cache",
)


def fill(path: Path, count: int) -> None:
    """``count`` memories for the benchmark's user, on varied words (recall finds some)."""
    db = MemoryDatabase(path)
    now = time.time()
    for n in range(count):
        a, b = WORDS[n % len(WORDS)], WORDS[(n * 7 + 3) % len(WORDS)]
        db.add(
            USER,
            Candidate("fact", f"Note {n}: the {a} of team {n % 97} uses {b} version {n % 13}", 0.5),
            now - n,
        )
    db.close()


def body(n: int, text: str) -> bytes:
    session = f"bench-{n}"
    return orjson.dumps(
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 256,
            "stream": True,
            "system": [
                {
                    "type": "text",
                    "text": f"You are Claude Code.\n - Primary working directory: {WORKSPACE}\n",
                }
            ],
            "metadata": {
                "user_id": orjson.dumps(
                    {"device_id": DEVICE, "account_uuid": "", "session_id": session}
                ).decode()
            },
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        }
    )


async def one(client: httpx.AsyncClient, port: int, payload: bytes, n: int) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    async with client.stream(
        "POST",
        f"http://{HOST}:{port}/v1/messages",
        content=payload,
        headers={
            "content-type": "application/json",
            "anthropic-version": "2023-06-01",
            "x-claude-code-session-id": f"bench-{n}",
        },
    ) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            if chunk and not first:
                first = time.perf_counter()
    return (first - started) * 1000, (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="lynkr-ttfb-"))
    upstream_port = free_port()
    procs = []
    try:
        upstream = start(
            [
                sys.executable,
                "-m",
                "benchmarks.fast_upstream",
                "--port",
                str(upstream_port),
                "--chunks",
                "20",
                "--interval-ms",
                "5",
            ],
            dict(os.environ),
            None,
            folder / "upstream.log",
        )
        procs.append(upstream)
        await wait_http(upstream_port, "/health", upstream, folder / "upstream.log")
        (folder / "no-extract.yaml").write_text(NO_EXTRACT)
        ports = {}
        for side in SIDES:
            db = folder / f"{side}.db"
            fill(db, args.memories)
            env = {
                **os.environ,
                "MODEL_PROVIDER": "openai",
                "OPENAI_API_KEY": "sk-bench",
                "OPENAI_ENDPOINT": f"http://{HOST}:{upstream_port}/v1",
                "OPENAI_MODEL": "bench-model",
                "LOG_LEVEL": "warning",
                "MEMORY_DB_PATH": str(db),
                "LYNKR_DB_PATH": str(folder / f"{side}-l.db"),
                "PROMPT_CACHE_ENABLED": "false",
                "MEMORY_MAX_COUNT": "1000000",
                "MEMORY_ENABLED": "false" if side == "off" else "true",
                "LYNKR_PIPELINE": str(folder / "no-extract.yaml")
                if side == "recall"
                else "default",
            }
            port = ports[side] = free_port()
            proc = start(
                [sys.executable, "-m", "lynkr", "start", "--port", str(port)],
                env,
                None,
                folder / f"{side}.log",
                cwd=ROOT,
            )
            procs.append(proc)
            await wait_http(port, "/health/live", proc, folder / f"{side}.log")
        texts = [t.text for t in labelled_turns() if t.kind is not None]
        timings: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
        async with httpx.AsyncClient(timeout=30) as client:
            for n in range(args.warmup + args.requests):
                for offset, side in enumerate(SIDES):  # a rotating order: no side always first
                    side = SIDES[(n + offset) % len(SIDES)]
                    result = await one(client, ports[side], body(n, texts[n % len(texts)]), n)
                    if n >= args.warmup:
                        timings[side].append(result)
        await asyncio.sleep(2)  # the last extractions
    finally:
        for proc in reversed(procs):
            stop(proc)
    report: dict[str, Any] = {
        "requests_per_side": args.requests,
        "memories": args.memories,
        "load_average": os.getloadavg()[0],
    }
    for side in SIDES:
        ttfb = [t for t, _ in timings[side]]
        whole = [w for _, w in timings[side]]
        report[side] = {
            "ttfb_p50_ms": round(statistics.median(ttfb), 2),
            "ttfb_p95_ms": round(percentile(ttfb, 0.95), 2),
            "whole_p50_ms": round(statistics.median(whole), 2),
            "whole_p95_ms": round(percentile(whole, 0.95), 2),
        }
    db = MemoryDatabase(folder / "on.db")
    # (not a count difference: beyond MEMORY_MAX_COUNT the least important filler is pruned)
    report["on"]["memories_learnt"] = sum(1 for m in db.export(USER.user) if m.session_id)
    db.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = asyncio.run(run(args))
    text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
