"""``lynkr start --workers 2`` against one worker, bound by Lynkr's CPU per request (issue 17).

    python -m benchmarks.workers [--quick] [--rounds 5] [--requests 4000] [--concurrency 32]
                                 [--nice -10] [--compare-root PATH] [--json PATH]

The 49 KB Claude Code request, streamed, answered by ``benchmarks.fast_upstream``'s default
short answer (24 SSE events). Lynkr spends about 2.3 ms of CPU on each; the load generator
(``benchmarks.loadgen`` in a process of its own, keep-alive, ``--concurrency`` connections) and
the fake about 0.1 ms each, so Lynkr is what runs out of CPU. Two Lynkr servers run side by
side for the whole benchmark: one worker pinned to the last CPU, and ``--workers 2`` on both
CPUs; the load generator and the fake are not pinned. Rounds alternate between them (the order
flips every round, so drift in the machine's speed hits both alike); every round is a fresh
load generator: new connections, a warm-up, then the measured requests. Before each round it
waits (``--patience``) for the other sessions on the machine to be quiet.

First, spread trials: ``--spread`` connections opened at once to the idle workers, one request
each, and each worker's count (how evenly new connections are spread). Then per round:
requests/s (the load generator's), Lynkr's CPU ms per request and its CPU use in cores, each
worker's share of Lynkr's CPU, of the requests (its ``lynkr_requests_total`` in the
multiprocess metrics folder) and of the connections (ESTABLISHED sockets on the port held by
each worker, from ``/proc``), the CPU the load generator and the fake used, and what the rest
of the machine used meanwhile (``/proc/stat`` minus all of ours). The summary gives the ratio
of the medians of requests/s (and of the quiet rounds only), the ceiling (the cores the load
generator and the fake leave, over the one core a single worker can use), the per-core
efficiency (two workers' requests/s per Lynkr core over one worker's) and their product, the
ratio projected for an idle machine. ``--compare-root`` adds a third server, ``--workers 2``
run from another checkout (e.g. before a change to ``server/workers.py``), in the same rounds
and trials.

Loopback only. Processes run in their own sessions and are killed by process group at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/workers.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loadgen
from benchmarks.overhead import (
    CLK_TCK,
    HOST,
    ROOT,
    cpu_busy_ticks,
    free_port,
    git_info,
    set_priority,
    start,
    stop,
    verify_anthropic_stream,
    wait_http,
)
from benchmarks.request_49k import http_request
from benchmarks.streams import process_ticks

GOAL_RATIO = 1.8


# -- what each process did -------------------------------------------------------------------

def established_by_pid(pids: list[int], port: int, state: str = "01") -> dict[int, int]:
    """Server-side TCP sockets on ``port`` held by each of ``pids``: ESTABLISHED connections,
    or with ``state="0A"`` listening sockets."""
    inodes: dict[str, list[int]] = {}  # socket inode -> the pids holding it
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.setdefault(target[8:-1], []).append(pid)
        except OSError:
            continue
    counts = dict.fromkeys(pids, 0)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state:
                for pid in inodes.get(fields[9], ()):
                    counts[pid] += 1
    return counts


def requests_by_pid(folder: Path | None) -> dict[int, float]:
    """``lynkr_requests_total`` summed over labels, per worker pid, from the multiprocess
    metrics folder (``counter_<pid>.db``)."""
    if folder is None:
        return {}
    from prometheus_client.mmap_dict import MmapedDict

    out: dict[int, float] = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.split("_", 1)[1])
        total = 0.0
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[1] == "lynkr_requests_total":
                total += value
        out[pid] = total
    return out


def shares(values: dict[int, float]) -> list[float]:
    total = sum(values.values())
    return sorted((round(v / total, 3) for v in values.values() if v > 0), reverse=True) \
        if total > 0 else []


class Side:
    """One Lynkr server under test: its process group, port and metrics folder."""

    def __init__(self, name: str, workers: int, cpu: int | None, root: Path, up_port: int,
                 logs: Path, nice: int | None = None) -> None:
        self.name, self.workers, self.port = name, workers, free_port()
        self.log = logs / f"lynkr-{name}.log"
        self.folder = logs / f"metrics-{name}" if workers > 1 else None
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_", "PROMETHEUS_"))}
        env.update({"PYTHONPATH": str(root) + os.pathsep + env.get("PYTHONPATH", ""),
                    "MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "x",
                    "OPENAI_ENDPOINT": f"http://{HOST}:{up_port}/v1", "PORT": str(self.port),
                    "LYNKR_HOST": HOST, "LOG_LEVEL": "warning",
                    "LYNKR_ENV_FILE": str(logs / "no.env")})
        if self.folder is not None:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.folder)
        self.proc = start([sys.executable, "-m", "lynkr", "start", "--workers", str(workers)],
                          env, cpu, self.log, nice, cwd=root)

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the workers, or the one process."""
        pids = [p for p in process_ticks(self.proc.pid) if p != self.proc.pid]
        return [p for p in pids if _is_worker(p)] if self.workers > 1 else [self.proc.pid]


def _is_worker(pid: int) -> bool:
    try:
        return b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


# -- one round -------------------------------------------------------------------------------

def one_round(side: Side, fake_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    gen = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.loadgen", "--port", str(side.port), "--sync",
         "--requests", str(args.requests), "--warmup", str(args.warmup),
         "--concurrency", str(args.concurrency)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
        preexec_fn=None if args.nice is None else partial(set_priority, args.nice))
    assert gen.stdin is not None and gen.stdout is not None
    try:
        line = gen.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"loadgen said {line!r}")
        pids = side.worker_pids()
        conns = established_by_pid(pids, side.port)
        reqs0 = requests_by_pid(side.folder)
        lynkr0, fake0, gen0 = process_ticks(side.proc.pid), _ticks(fake_pid), _ticks(gen.pid)
        busy0, t0 = cpu_busy_ticks(), time.monotonic()
        gen.stdin.write("go\n")
        gen.stdin.flush()
        line = gen.stdout.readline()
        wall = time.monotonic() - t0
        busy1 = cpu_busy_ticks()
        lynkr1, fake1, gen1 = process_ticks(side.proc.pid), _ticks(fake_pid), _ticks(gen.pid)
        reqs1 = requests_by_pid(side.folder)
        gen.wait(timeout=30)
    finally:
        if gen.poll() is None:
            gen.kill()
            gen.wait()
    res = json.loads(line)
    used = {pid: (lynkr1[pid] - lynkr0.get(pid, 0)) / CLK_TCK for pid in lynkr1}
    lynkr_s = sum(used.values())
    gen_s, fake_s = (gen1 - gen0) / CLK_TCK, (fake1 - fake0) / CLK_TCK
    machine_s = sum(busy1[c] - busy0[c] for c in busy0) / CLK_TCK
    n = max(int(res["requests"]), 1)
    per_worker_reqs = {pid: reqs1.get(pid, 0) - reqs0.get(pid, 0) for pid in reqs1}
    return {
        "requests": res["requests"], "errors": res["errors"], "first_error": res["first_error"],
        "rps": res["rps"], "p50_ms": res["p50_ms"], "p99_ms": res["p99_ms"],
        "wall_s": round(wall, 2),
        "lynkr_cpu_ms_per_req": round(lynkr_s * 1000 / n, 3),
        "lynkr_cores": round(lynkr_s / wall, 3),
        "worker_cpu_shares": shares({p: used.get(p, 0.0) for p in pids}),
        "worker_request_shares": shares(per_worker_reqs),
        "worker_connections": sorted(conns.values(), reverse=True),
        "loadgen_cpu_ms_per_req": round(gen_s * 1000 / n, 3),
        "fake_cpu_ms_per_req": round(fake_s * 1000 / n, 3),
        "loadgen_and_fake_cores": round((gen_s + fake_s) / wall, 3),
        "others_cores": round(max(machine_s - lynkr_s - gen_s - fake_s, 0.0) / wall, 3),
    }


def _ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


# -- how connections spread ------------------------------------------------------------------

async def spread(side: Side, size: int) -> list[int]:
    """Open ``size`` connections at once (as the load generator does) to the idle workers, get
    one answer on each so that all are accepted, and count each worker's share."""
    conns = [await loadgen.connect(HOST, side.port) for _ in range(size)]
    try:
        request = loadgen.get("/health/live", HOST, side.port)
        await asyncio.wait_for(asyncio.gather(*(c.roundtrip(request) for c in conns)), 30)
        return sorted(established_by_pid(side.worker_pids(), side.port).values(), reverse=True)
    finally:
        for conn in conns:
            conn.close()
        await asyncio.sleep(0.05)  # the workers see the closes before the next trial


async def spreads(sides: list[Side], sizes: list[int], trials: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in sizes:
        seen: dict[str, list[list[int]]] = {side.name: [] for side in sides}
        for trial in range(trials):
            for side in (sides if trial % 2 == 0 else sides[::-1]):
                seen[side.name].append(await spread(side, size))
        for side in sides:
            fair = size / side.workers
            busiest = [split[0] for split in seen[side.name]]
            out.setdefault(side.name, []).append({
                "connections": size, "trials": trials,
                "busiest_mean": round(statistics.mean(busiest), 2),
                "busiest_over_fair_mean": round(statistics.mean(busiest) / fair, 2),
                "busiest_max": max(busiest),
                "all_on_one_worker": sum(b == size for b in busiest),
                "first_splits": seen[side.name][:6]})
    return out


# -- the run ---------------------------------------------------------------------------------

def summarise(runs: dict[str, list[dict[str, Any]]], cores: int, quiet: float
              ) -> dict[str, Any]:
    def med(name: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[name]), 3)

    def quiet_rps(name: str) -> float | None:
        calm = [r["rps"] for r in runs[name] if r["others_cores"] <= quiet]
        return statistics.median(calm) if calm else None

    out: dict[str, Any] = {name: {key: med(name, key) for key in (
        "rps", "lynkr_cpu_ms_per_req", "lynkr_cores", "loadgen_and_fake_cores", "others_cores",
        "loadgen_cpu_ms_per_req", "fake_cpu_ms_per_req")} for name in runs}
    one, one_quiet = out["1"]["rps"], quiet_rps("1")
    for name in runs:
        if name == "1":
            continue
        row = out[name]
        row["ratio"] = round(row["rps"] / one, 2) if one else None
        row["ratio_per_round"] = [round(a["rps"] / b["rps"], 2)
                                  for a, b in zip(runs[name], runs["1"], strict=True)]
        two_quiet = quiet_rps(name)
        # rounds in which the rest of the machine took at most ``quiet`` of a core
        row["quiet_rounds"] = sum(r["others_cores"] <= quiet for r in runs[name])
        row["quiet_ratio"] = round(two_quiet / one_quiet, 2) if one_quiet and two_quiet \
            else None
        # the ceiling: the cores the load generator and the fake leave, over the one core a
        # single worker can use (two workers as efficient per core as one, no other load)
        row["ceiling_ratio"] = round(cores - row["loadgen_and_fake_cores"], 2)
        # Lynkr's requests/s per core it got, over one worker's (1.0: no loss from a second
        # process); times the ceiling: the ratio this run projects for an otherwise idle machine
        row["per_core_efficiency"] = round(
            (row["rps"] / row["lynkr_cores"]) / (one / out["1"]["lynkr_cores"]), 2)
        row["projected_ratio_idle_machine"] = round(
            row["per_core_efficiency"] * row["ceiling_ratio"], 2)
        row["busiest_worker_cpu_share"] = [r["worker_cpu_shares"][0] for r in runs[name]]
        row["busiest_worker_request_share"] = [
            r["worker_request_shares"][0] if r["worker_request_shares"] else None
            for r in runs[name]]
        row["worker_connections"] = [r["worker_connections"] for r in runs[name]]
    return out


def machine_busy(seconds: float = 0.5) -> float:
    """Cores busy (every process) over the next ``seconds``, from /proc/stat."""
    before = cpu_busy_ticks()
    time.sleep(seconds)
    after = cpu_busy_ticks()
    return sum(after[c] - before[c] for c in before) / CLK_TCK / seconds


def wait_quiet(limit: float, patience_s: float) -> tuple[float, float]:
    """Wait (up to ``patience_s``) until the machine uses at most ``limit`` cores (ours are
    idle between rounds, so that is the other sessions' load); (busy, seconds waited)."""
    started = time.monotonic()
    busy = machine_busy()
    while busy > limit and time.monotonic() - started < patience_s:
        busy = machine_busy()
    return round(busy, 2), round(time.monotonic() - started, 1)


async def _wait(sides: list[Side], fake: Any, fake_port: int, logs: Path) -> None:
    await wait_http(fake_port, "/health", fake, logs / "upstream.log")
    for side in sides:
        await wait_http(side.port, "/health/live", side.proc, side.log, timeout_s=60)
        deadline = time.monotonic() + 60  # every worker up, not only the first
        while sum(established_by_pid(side.worker_pids(), side.port, "0A").values()) \
                < side.workers:
            assert time.monotonic() < deadline, f"{side.name}: workers not all listening"
            await asyncio.sleep(0.1)
        before = process_ticks(side.proc.pid)  # and idle: done importing and building state
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            after = process_ticks(side.proc.pid)
            if sum(after.values()) - sum(before.values()) <= 2:
                break
            before = after
        status, body = await loadgen.fetch(HOST, side.port, http_request(HOST, side.port))
        assert status == 200, (side.name, status, body[:300])
        print(f"check {side.name}: {verify_anthropic_stream(body)}", file=sys.stderr)


def run(args: argparse.Namespace) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("workers: needs two CPUs")
    logs = Path(tempfile.mkdtemp(prefix="lynkr-workers-"))
    up_port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    base["PYTHONPATH"] = str(ROOT) + os.pathsep + base.get("PYTHONPATH", "")
    fake = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port)],
                 base, None, logs / "upstream.log", args.nice)
    sides: list[Side] = []
    try:
        sides.append(Side("1", 1, cpus[-1], ROOT, up_port, logs, args.nice))
        sides.append(Side("2", 2, None, ROOT, up_port, logs, args.nice))
        if args.compare_root:
            sides.append(Side("2-compare", 2, None, Path(args.compare_root).resolve(),
                              up_port, logs, args.nice))
        asyncio.run(_wait(sides, fake, up_port, logs))
        many = [side for side in sides if side.workers > 1]
        spread_report = asyncio.run(spreads(many, args.spread, args.spread_trials)) \
            if args.spread_trials else {}
        for name, rows in spread_report.items():
            for row in rows:
                print(f"spread workers={name}: {row['connections']} connections, busiest "
                      f"worker {row['busiest_mean']} on average ({row['busiest_over_fair_mean']}"
                      f"x its fair share), all on one worker in {row['all_on_one_worker']} of "
                      f"{row['trials']}", file=sys.stderr, flush=True)
        for side in sides:  # one unmeasured round each: imports, caches, first connections
            one_round(side, fake.pid, argparse.Namespace(**{**vars(args), "requests": 200}))
        runs: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
        for rnd in range(args.rounds):
            for side in (sides if rnd % 2 == 0 else sides[::-1]):
                busy, waited = wait_quiet(args.quiet, args.patience) if args.patience \
                    else (None, 0.0)
                runs[side.name].append({**one_round(side, fake.pid, args),
                                        "busy_before": busy, "waited_s": waited})
                r = runs[side.name][-1]
                print(f"round {rnd} workers={side.name}: {r['rps']} req/s, Lynkr "
                      f"{r['lynkr_cpu_ms_per_req']} ms/req on {r['lynkr_cores']} cores, split "
                      f"cpu {r['worker_cpu_shares']} requests {r['worker_request_shares']} "
                      f"connections {r['worker_connections']}; loadgen+fake "
                      f"{r['loadgen_and_fake_cores']}, others {r['others_cores']}",
                      file=sys.stderr, flush=True)
        return {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "git": git_info(),
                "load_average_at_start": args.load1, "logs": str(logs),
                "settings": {k: v for k, v in vars(args).items() if k not in ("json", "load1")},
                "goal_ratio": GOAL_RATIO, "summary": summarise(runs, len(cpus), args.quiet),
                "spread": spread_report, "runs": runs}
    finally:
        for side in sides:
            stop(side.proc)
        stop(fake)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="--workers 2 against one worker, CPU-bound")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1,500 requests")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per server")
    parser.add_argument("--requests", type=int, default=4000, help="measured per round")
    parser.add_argument("--warmup", type=int, default=200, help="per round, on its connections")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--spread", type=int, nargs="*", default=[4, 8, 32], metavar="N",
                        help="connections opened at once in the spread trials")
    parser.add_argument("--spread-trials", type=int, default=40,
                        help="trials per size of how connections spread (0: skip)")
    parser.add_argument("--quiet", type=float, default=0.1, metavar="CORES",
                        help="a round is quiet when the rest of the machine took at most this")
    parser.add_argument("--patience", type=float, default=5.0, metavar="S",
                        help="before each round, wait up to this long for a quiet machine "
                             "(0: don't)")
    parser.add_argument("--nice", type=int, metavar="N",
                        help="run Lynkr, the fake and the load generator at this nice value, "
                             "each in its own scheduler autogroup (e.g. -10, needs root): "
                             "shields the run from other sessions' load")
    parser.add_argument("--compare-root", metavar="PATH",
                        help="also run --workers 2 from this checkout (e.g. before a change)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.requests, args.spread_trials = 2, 1500, 12
    args.load1 = os.getloadavg()[0]
    started = time.monotonic()
    report = run(args)
    report["duration_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(report, indent=2) + "\n"
    print(json.dumps({"summary": report["summary"], "spread": report["spread"]}, indent=2))
    print(f"(run took {report['duration_s']} s; process logs in {report['logs']})",
          file=sys.stderr)
    if args.json:
        Path(args.json).write_text(text)
    return 1 if any(r["errors"] for rs in report["runs"].values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
