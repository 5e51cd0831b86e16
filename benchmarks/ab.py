"""A/B the CPU cost of two Lynkr configurations on the same machine, interleaved.

The machine's speed drifts (shared cores, frequency), so two separate runs of ``overhead`` can
differ by more than the change being measured. This starts one fake upstream and two Lynkr
processes that differ only in environment (e.g. ``LYNKR_PIPELINE``), pins both to the same CPU,
and alternates short phases of streaming 49 KB requests between them, so drift hits both
alike. It reports the median and minimum CPU ms per request of each.

    python -m benchmarks.ab --b LYNKR_PIPELINE=/tmp/other.yaml [--a K=V ...] [--rounds 8]
                            [--small] [--json PATH]

``--a-root``/``--b-root`` run that side's Lynkr from another checkout (e.g. ``--a-root
/path/to/main`` to compare two branches' code): its directory is the process's working
directory and ``PYTHONPATH``, so its ``lynkr`` package is the one imported. ``--small`` sends
the 1 KB request instead; each phase's p50 latency (c=1, through Lynkr) is reported too, and
the B/A ratios of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks import loadgen, request_49k
from benchmarks.overhead import (
    CLK_TCK,
    HOST,
    ROOT,
    cpu_ticks,
    free_port,
    start,
    stop,
    wait_http,
)


def _env(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


async def _phase(port: int, pid: int, request: bytes, total: int) -> tuple[float, float]:
    gen = await loadgen.LoadGen.open(HOST, port, 1, request, loadgen.anthropic_stream_ok)
    try:
        await gen.phase(20)
        before = cpu_ticks(pid)
        result = await gen.phase(total)
        spent = cpu_ticks(pid) - before
    finally:
        gen.close()
    if result.errors:
        raise SystemExit(f"errors: {result.first_error}")
    return spent / CLK_TCK * 1000 / total, statistics.median(result.latencies_ns) / 1e6


async def run(args: argparse.Namespace) -> None:
    logs = Path(tempfile.mkdtemp(prefix="lynkr-ab-"))
    up_port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), LOG_LEVEL="warning")
    cpus = sorted(os.sched_getaffinity(0))
    procs = []
    try:
        upstream = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port",
                          str(up_port)], env, cpus[0], logs / "upstream.log")
        procs.append(upstream)
        ports = {}
        for name, extra, root in (("A", _env(args.a), args.a_root),
                                  ("B", _env(args.b), args.b_root)):
            port = free_port()
            lynkr_env = dict(env, MODEL_PROVIDER="openai", OPENAI_API_KEY="bench",
                             OPENAI_ENDPOINT=f"http://{HOST}:{up_port}/v1", PORT=str(port),
                             PYTHONPATH=str(root), **extra)
            proc = start([sys.executable, "-m", "lynkr", "start"], lynkr_env, cpus[-1],
                         logs / f"lynkr-{name}.log", cwd=root)
            procs.append(proc)
            await wait_http(port, "/health/live", proc, logs / f"lynkr-{name}.log")
            ports[name] = (port, proc.pid)
        costs: dict[str, list[float]] = {"A": [], "B": []}
        p50s: dict[str, list[float]] = {"A": [], "B": []}
        for _ in range(args.rounds):
            for name, (port, pid) in ports.items():
                request = request_49k.http_request(HOST, port, stream=True, small=args.small)
                cpu_ms, p50_ms = await _phase(port, pid, request, args.requests)
                costs[name].append(cpu_ms)
                p50s[name].append(p50_ms)
        summary: dict[str, object] = {"request": "1 KB" if args.small else "49 KB",
                                      "rounds": args.rounds, "requests": args.requests}
        for name, values in costs.items():
            print(f"{name} {' '.join(args.a if name == 'A' else args.b) or '(default)'}: "
                  f"median {statistics.median(values):.3f} ms, min {min(values):.3f} ms "
                  f"CPU per streaming request over {args.rounds} x {args.requests}; "
                  f"p50 latency median {statistics.median(p50s[name]):.3f} ms")
            summary[name] = {"root": str(args.a_root if name == "A" else args.b_root),
                             "cpu_ms": [round(v, 3) for v in values],
                             "p50_ms": [round(v, 3) for v in p50s[name]]}
        cpu_ratio = statistics.median(costs["B"]) / statistics.median(costs["A"])
        p50_ratio = statistics.median(p50s["B"]) / statistics.median(p50s["A"])
        print(f"B/A: CPU per request {cpu_ratio:.2f}, p50 latency {p50_ratio:.2f}")
        summary["ratio_b_over_a"] = {"cpu_ms": round(cpu_ratio, 3),
                                     "p50_ms": round(p50_ratio, 3)}
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    finally:
        for proc in procs:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", nargs="*", default=[], metavar="K=V")
    parser.add_argument("--b", nargs="*", default=[], metavar="K=V")
    parser.add_argument("--a-root", type=Path, default=ROOT, help="checkout A runs from")
    parser.add_argument("--b-root", type=Path, default=ROOT, help="checkout B runs from")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--small", action="store_true", help="the 1 KB request")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
