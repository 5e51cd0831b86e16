"""Realistic streams: many concurrent token-paced answers relayed by Lynkr (issue 17).

    python -m benchmarks.streams [--quick] [--chunks 500] [--interval-ms 10]
                                 [--levels 1 50 100 200] [--tolerance 0.10] [--json PATH]

``benchmarks.fast_upstream --chunks N --interval-ms T`` answers every streamed request with N
content deltas, one HTTP chunk every T ms (N + 4 SSE events: role, deltas, finish, usage,
``[DONE]``). For each concurrency level, ``c`` clients each open one stream at the same time
(starts spread over one interval so the ticks are not in lockstep), first straight to the fake
(the OpenAI body Lynkr itself sent), then with the 49 KB Claude Code request through Lynkr's
``/v1/messages``, Lynkr pinned to one CPU as in ``overhead``. Every answer is checked. Per level:

* Lynkr's CPU µs per relayed upstream SSE event (``/proc`` utime+stime of its process group over
  the phase, divided by streams x (N + 4));
* time to the first token (write to the arrival of ``tok0``), direct and through Lynkr, p50;
* cadence slip per stream: (last byte - first token) / ((N + 3) x T) - 1, p50 and p90. A level is
  sustained when no stream failed and Lynkr's p90 slip is within ``--tolerance``.

Then ``--workers 2`` against one worker: the same fake answers all N + 4 chunks at once (no
pacing, so Lynkr is the bottleneck), ``--burst-clients`` clients each run streams back to back,
interleaved rounds of one worker (pinned to one CPU) and two workers (both CPUs); the ratio is
relayed events per second. The fake and the clients stay pinned to the first CPU, so with two
workers one of them shares its core with them. This figure is client-bound: the clients here
parse about 90k events/s in this one process and set the pace, not Lynkr (two workers together
use about one core). ``benchmarks/workers.py`` is the request-bound comparison. Loopback
only; every phase is bounded in count and in time (a phase that overruns fails rather than
hangs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from time import perf_counter_ns
from typing import Any

from benchmarks import loadgen
from benchmarks.fast_upstream import paced_deltas
from benchmarks.overhead import (
    CLK_TCK,
    HOST,
    cpu_busy_ticks,
    free_port,
    git_info,
    rss_kib,
    start,
    stop,
    wait_http,
)
from benchmarks.request_49k import http_request

GOAL_CPU_US_PER_CHUNK = 25.0
GOAL_WORKERS_RATIO = 1.8
GENERATOR_BOUND = 0.9  # the clients' and the fake's core this busy: they set the pace


class StreamConn(loadgen.Connection):
    """A loadgen connection that also notes when the first token arrived."""

    marker = b"tok0 "

    def __init__(self) -> None:
        super().__init__()
        self.first_ns = 0

    def data_received(self, data: bytes) -> None:
        if not self.first_ns and self.marker in data:
            self.first_ns = perf_counter_ns()
        super().data_received(data)


def group_ticks(pgid: int) -> int:
    """utime + stime of every live process in the process group (hypercorn's workers too)."""
    return sum(process_ticks(pgid).values())


def process_ticks(pgid: int) -> dict[int, int]:
    """utime + stime of each live process in the process group, by pid."""
    ticks = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            ticks[int(name)] = int(fields[11]) + int(fields[12])
    return ticks


def worker_shares(before: dict[int, int], after: dict[int, int]) -> list[float]:
    """Each busy process's share of the group's CPU over a phase, largest first (with
    ``--workers 2``: how evenly the kernel spread the connections over the workers)."""
    used = {pid: after[pid] - before.get(pid, 0) for pid in after}
    total = sum(used.values())
    shares = sorted((u / total for u in used.values() if u > 0), reverse=True) if total else []
    return [round(x, 3) for x in shares]


def own_and(pid: int) -> float:
    """CPU seconds of this process (the clients) and of ``pid`` (the fake) so far."""
    t = os.times()
    return t.user + t.system + sum(process_ticks(pid).values()) / CLK_TCK


async def run_streams(port: int, request: bytes, ok: loadgen.Check, clients: int, per_client: int,
                      stagger_s: float, timeout_s: float) -> dict[str, Any]:
    """``clients`` connections, each running ``per_client`` streams back to back."""
    loop = asyncio.get_running_loop()
    records: list[tuple[int, int, int]] = []  # start, first token, end (ns)
    errors: list[str] = []

    async def client(delay: float) -> None:
        await asyncio.sleep(delay)
        _t, conn = await loop.create_connection(StreamConn, HOST, port)
        try:
            for _ in range(per_client):
                conn.first_ns = 0
                try:
                    status, body, start_ns, end_ns = await conn.roundtrip(request)
                except loadgen.ResponseError as exc:
                    errors.append(str(exc))
                    return
                if status != 200 or not ok(status, body) or not conn.first_ns:
                    errors.append(f"status {status}: {body[-200:]!r}")
                    continue
                records.append((start_ns, conn.first_ns, end_ns))
                if conn.will_close:
                    conn.close()
                    _t, conn = await loop.create_connection(StreamConn, HOST, port)
        finally:
            conn.close()

    t0 = perf_counter_ns()
    tasks = [client(random.uniform(0, stagger_s)) for _ in range(clients)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout_s)
    except TimeoutError:
        errors.append(f"phase overran {timeout_s:.0f} s")
    return {"records": records, "errors": errors, "wall_s": (perf_counter_ns() - t0) / 1e9}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(loadgen.percentile(ordered, p), 3) if ordered else float("nan")  # type: ignore[arg-type]


def stream_figures(res: dict[str, Any], ideal_s: float) -> dict[str, Any]:
    ttfb = [(f - s) / 1e6 for s, f, _e in res["records"]]
    slip = [((e - f) / 1e9) / ideal_s - 1 for _s, f, e in res["records"]] if ideal_s else []
    return {"streams": len(res["records"]), "errors": len(res["errors"]),
            "first_error": res["errors"][0] if res["errors"] else None,
            "wall_s": round(res["wall_s"], 2),
            "ttfb_p50_ms": pct(ttfb, 50), "ttfb_p90_ms": pct(ttfb, 90),
            "slip_p50": pct(slip, 50), "slip_p90": pct(slip, 90), "slip_max": pct(slip, 100)}


async def measured(pgid: int | None, coro: Any) -> tuple[dict[str, Any], float]:
    """Run ``coro`` and return its result and the process group's CPU seconds meanwhile."""
    t0 = group_ticks(pgid) if pgid else 0
    res = await coro
    return res, ((group_ticks(pgid) - t0) / CLK_TCK if pgid else 0.0)


def lynkr_env(base: dict[str, str], up_port: int, port: int, logs: Path,
              transport: str = "lean") -> dict[str, str]:
    return {**base, "MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "x",
            "OPENAI_ENDPOINT": f"http://{HOST}:{up_port}/v1", "PORT": str(port),
            "LYNKR_HOST": HOST, "LOG_LEVEL": "warning", "LYNKR_ENV_FILE": str(logs / "no.env"),
            "UPSTREAM_TRANSPORT": transport}


def side_name(transport: str, first: str) -> str:
    """``lynkr`` for the transport the ladder is judged on, ``lynkr_<name>`` for the others."""
    return "lynkr" if transport == first else f"lynkr_{transport}"


def ends_with(last: bytes, tail: bytes) -> loadgen.Check:
    return lambda status, body: body.endswith(tail) and last in body


async def ladder(args: argparse.Namespace, base: dict[str, str], logs: Path,
                 cpus: tuple[int, int]) -> dict[str, Any]:
    gen_cpu, lynkr_cpu = cpus
    up_port = free_port()
    n, interval = args.chunks, args.interval_ms / 1000
    ideal_s = (n + 3) * interval
    last = f"tok{n - 1} ".encode()
    first = args.transports[0]
    upstream = None
    procs: dict[str, Any] = {}
    ports = {side_name(t, first): free_port() for t in args.transports}
    try:
        upstream = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port),
                          "--chunks", str(n), "--interval-ms", str(args.interval_ms)],
                         base, gen_cpu, logs / "upstream.log")
        for t in args.transports:  # all on Lynkr's CPU; only the one being measured is busy
            side = side_name(t, first)
            procs[side] = start([sys.executable, "-m", "lynkr", "start"],
                                lynkr_env(base, up_port, ports[side], logs, t), lynkr_cpu,
                                logs / f"{side}.log")
        await wait_http(up_port, "/health", upstream, logs / "upstream.log")
        requests = {}
        for side, proc in procs.items():
            await wait_http(ports[side], "/health/live", proc, logs / f"{side}.log")
            requests[side] = http_request(HOST, ports[side], stream=True)
            status, body = await loadgen.fetch(HOST, ports[side], requests[side])
            text = "".join(json.loads(line[6:])["delta"].get("text", "")
                           for line in body.decode().split("\n")
                           if line.startswith("data: ") and "content_block_delta" in line)
            assert status == 200 and text == "".join(paced_deltas(n)), (status, body[-300:])
        lynkr = procs["lynkr"]
        _, sent = await loadgen.fetch(HOST, up_port, loadgen.get("/_last", HOST, up_port))
        up_req = loadgen.post("/v1/chat/completions", HOST, up_port, sent,
                              {"authorization": "Bearer x", "connection": "keep-alive"})
        checks = {side: ends_with(last, b'data: {"type":"message_stop"}\n\n') for side in procs}
        checks["direct"] = ends_with(last, b"data: [DONE]\n\n")
        print(f"check: {n} deltas through Lynkr, text ok", file=sys.stderr)
        floor: list[tuple[str, int, bytes, int | None]] = []
        if args.floor:  # the same stack relaying bytes untouched (benchmarks.bare_relay)
            (logs / "upstream-body.json").write_bytes(sent)
            floor_port = free_port()
            procs["floor"] = start([sys.executable, "-m", "benchmarks.bare_relay", "--port",
                                    str(floor_port), "--upstream",
                                    f"http://{HOST}:{up_port}/v1/chat/completions", "--body",
                                    str(logs / "upstream-body.json")],
                                   base, lynkr_cpu, logs / "floor.log")
            await wait_http(floor_port, "/health/live", procs["floor"], logs / "floor.log")
            checks["floor"] = checks["direct"]
            floor.append(("floor", floor_port,
                          loadgen.post("/v1/chat/completions", HOST, floor_port, b"{}",
                                       {"connection": "keep-alive"}), procs["floor"].pid))
        # what Lynkr burns with no request in flight (timers, housekeeping): part of every level
        _, idle_cpu_s = await measured(lynkr.pid, asyncio.sleep(args.idle_s))
        levels = []
        for c in args.levels:
            per_client = args.rounds_at_one if c == 1 else 1
            timeout = ideal_s * per_client * 4 + 30
            row: dict[str, Any] = {"concurrency": c, "streams_per_client": per_client}
            sides = [("direct", up_port, up_req, None), *floor]
            sides += [(side, ports[side], requests[side], procs[side].pid) for side in procs
                      if side != "floor"]
            for side, port, req, pid in sides:
                print(f"c={c} {side} ...", file=sys.stderr, flush=True)
                busy0 = cpu_busy_ticks()
                res, cpu_s = await measured(pid, run_streams(
                    port, req, checks[side], c, per_client, interval, timeout))
                busy = cpu_busy_ticks()
                row[side] = stream_figures(res, ideal_s)
                # the core the clients and the fake share: near 1.0, they set the pace, not
                # the relay (the level then says nothing about what the relay sustains)
                row[side]["generator_cpu_util"] = round(
                    (busy[gen_cpu] - busy0[gen_cpu]) / CLK_TCK / res["wall_s"], 2)
                if pid is not None:
                    events = row[side]["streams"] * (n + 4)
                    row[side]["cpu_us_per_chunk"] = round(cpu_s * 1e6 / max(events, 1), 1)
                    row[side]["cpu_util"] = round(cpu_s / res["wall_s"], 3)
            row["added_ttfb_p50_ms"] = round(row["lynkr"]["ttfb_p50_ms"]
                                             - row["direct"]["ttfb_p50_ms"], 3)
            if floor:  # Lynkr's own share of each chunk: what it costs above the bare relay
                row["lynkr_over_floor_us_per_chunk"] = round(
                    row["lynkr"]["cpu_us_per_chunk"] - row["floor"]["cpu_us_per_chunk"], 1)
            for side in procs:
                if side not in ("lynkr", "floor"):  # the other transport's CPU per chunk
                    row[f"cpu_ratio_{side}"] = round(row[side]["cpu_us_per_chunk"]
                                                     / max(row["lynkr"]["cpu_us_per_chunk"], 0.1),
                                                     2)
            row["sustained"] = (row["lynkr"]["errors"] == 0
                                and row["lynkr"]["slip_p90"] <= args.tolerance)
            row["generator_bound"] = row["lynkr"]["generator_cpu_util"] >= GENERATOR_BOUND
            levels.append(row)
            if floor:
                print(f"  floor cpu/chunk {row['floor']['cpu_us_per_chunk']} us",
                      file=sys.stderr)
            print(f"  cpu/chunk {row['lynkr']['cpu_us_per_chunk']} us, added ttfb "
                  f"{row['added_ttfb_p50_ms']} ms, slip p90 direct {row['direct']['slip_p90']}"
                  f" lynkr {row['lynkr']['slip_p90']}, generator core "
                  f"{row['lynkr']['generator_cpu_util']}", file=sys.stderr, flush=True)
            if not row["sustained"]:
                break
        sustained = [r["concurrency"] for r in levels if r["sustained"]]
        return {"levels": levels, "ideal_stream_s": round(ideal_s, 3),
                "idle_cpu_util": round(idle_cpu_s / args.idle_s, 4),
                "sustained_streams_per_core": max(sustained) if sustained else 0,
                "ladder_exhausted": bool(levels) and levels[-1]["sustained"],
                "rss_kib_end": rss_kib(lynkr.pid)}
    finally:
        for proc in procs.values():
            stop(proc)
        stop(upstream)


async def workers(args: argparse.Namespace, base: dict[str, str], logs: Path,
                  cpus: tuple[int, int]) -> dict[str, Any]:
    gen_cpu, lynkr_cpu = cpus
    up_port = free_port()
    n = args.chunks
    last = f"tok{n - 1} ".encode()
    ok = ends_with(last, b'data: {"type":"message_stop"}\n\n')
    procs: dict[int, Any] = {}
    upstream = None
    try:
        upstream = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port),
                          "--chunks", str(n)], base, gen_cpu, logs / "upstream-burst.log")
        await wait_http(up_port, "/health", upstream, logs / "upstream-burst.log")
        ports = {}
        for w in (1, 2):
            ports[w] = free_port()
            procs[w] = start([sys.executable, "-m", "lynkr", "start", "--workers", str(w)],
                             lynkr_env(base, up_port, ports[w], logs),
                             lynkr_cpu if w == 1 else None, logs / f"lynkr-w{w}.log")
        for w in (1, 2):
            await wait_http(ports[w], "/health/live", procs[w], logs / f"lynkr-w{w}.log")
        per_client = max(1, args.burst_streams // args.burst_clients)
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for rnd in range(args.burst_rounds):
            for w in ((1, 2) if rnd % 2 == 0 else (2, 1)):
                req = http_request(HOST, ports[w], stream=True)
                before, gen0 = process_ticks(procs[w].pid), own_and(upstream.pid)
                res, cpu_s = await measured(procs[w].pid, run_streams(
                    ports[w], req, ok, args.burst_clients, per_client, 0.0, 300))
                shares = worker_shares(before, process_ticks(procs[w].pid))
                generator_cpu = (own_and(upstream.pid) - gen0) / res["wall_s"]
                events = len(res["records"]) * (n + 4)
                runs[w].append({"streams": len(res["records"]), "errors": len(res["errors"]),
                                "first_error": res["errors"][0] if res["errors"] else None,
                                "wall_s": round(res["wall_s"], 2),
                                "events_per_s": round(events / res["wall_s"], 1),
                                "cpu_us_per_chunk": round(cpu_s * 1e6 / max(events, 1), 1),
                                "lynkr_cpu_util": round(cpu_s / res["wall_s"], 2),
                                "process_cpu_shares": shares,
                                "clients_and_fake_cpu_util": round(generator_cpu, 2)})
                print(f"workers={w} round {rnd}: {runs[w][-1]}", file=sys.stderr, flush=True)
        med = {w: statistics.median(r["events_per_s"] for r in runs[w]) for w in runs}
        return {"clients": args.burst_clients, "streams_per_run": per_client * args.burst_clients,
                "runs": {str(w): r for w, r in runs.items()},
                "median_events_per_s": {str(w): m for w, m in med.items()},
                "ratio_two_to_one": round(med[2] / med[1], 2) if med[1] else None}
    finally:
        for proc in procs.values():
            stop(proc)
        stop(upstream)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    cpus_avail = sorted(os.sched_getaffinity(0))
    if len(cpus_avail) < 2:
        sys.exit("streams: needs two CPUs (Lynkr on one, the fake and the clients on the other)")
    cpus = (cpus_avail[0], cpus_avail[-1])
    os.sched_setaffinity(0, {cpus[0]})
    logs = Path(tempfile.mkdtemp(prefix="lynkr-streams-"))
    root = str(Path(__file__).resolve().parent.parent)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_"))}
    base["PYTHONPATH"] = root + os.pathsep + base.get("PYTHONPATH", "")
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "git": git_info(),
        "load_average_at_start": os.getloadavg()[0], "logs": str(logs),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "goals": {"cpu_us_per_chunk": GOAL_CPU_US_PER_CHUNK,
                  "workers_2_ratio": GOAL_WORKERS_RATIO}}
    report["paced"] = await ladder(args, base, logs, cpus)
    if args.burst_rounds:
        report["workers"] = await workers(args, base, logs, cpus)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lynkr on many concurrent token-paced streams")
    parser.add_argument("--quick", action="store_true",
                        help="levels 1 25 50 100 200, 2 burst rounds of 100 streams")
    parser.add_argument("--chunks", type=int, default=500, help="content deltas per answer")
    parser.add_argument("--interval-ms", type=float, default=10.0, help="ms between chunks")
    parser.add_argument("--levels", type=int, nargs="+",
                        default=[1, 10, 25, 50, 75, 100, 150, 200, 300, 400])
    parser.add_argument("--rounds-at-one", type=int, default=5,
                        help="streams back to back at concurrency 1 (more TTFB samples)")
    parser.add_argument("--tolerance", type=float, default=0.10,
                        help="largest p90 cadence slip a sustained level may show")
    parser.add_argument("--idle-s", type=float, default=5.0,
                        help="seconds to measure Lynkr's CPU with no request in flight")
    parser.add_argument("--burst-clients", type=int, default=20)
    parser.add_argument("--burst-streams", type=int, default=200, help="streams per burst run")
    parser.add_argument("--burst-rounds", type=int, default=4,
                        help="interleaved rounds per worker count (0: skip)")
    parser.add_argument("--transports", nargs="+", choices=("lean", "httpx"), default=["lean"],
                        help="UPSTREAM_TRANSPORT of each Lynkr measured side by side at every "
                             "level (the first is the one the ladder is judged on)")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip the bare relay (benchmarks.bare_relay) measured beside Lynkr")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.rounds_at_one = [1, 25, 50, 100, 200], 3
        args.burst_streams, args.burst_rounds = 100, 2
    started = time.monotonic()
    report = asyncio.run(run(args))
    report["duration_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(report, indent=2) + "\n"
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    # streams that fail through Lynkr under overload end the ladder; the direct side must not
    return 1 if any(r["direct"]["errors"] for r in report["paced"]["levels"]) else 0


if __name__ == "__main__":
    sys.exit(main())
