"""Lynkr's overhead per request: the 49 KB Claude Code request direct to a fast fake upstream
versus through Lynkr, streaming and not, at concurrency 1 and 16.

    python -m benchmarks.overhead [--quick] [--json PATH]

Starts ``benchmarks.fast_upstream`` and ``lynkr start`` as subprocesses on free loopback ports,
Lynkr pinned to one CPU and the upstream and this load generator pinned to another, so Lynkr's
figures are per core. For each scenario it runs a warm-up and then a bounded number of requests
(a) through Lynkr's ``POST /v1/messages`` and (b) straight to the upstream with the OpenAI body
Lynkr itself sent (captured from the fake upstream), reads every response fully and checks it.
It reports latency percentiles, the latency Lynkr adds, requests/s through Lynkr, Lynkr's CPU
time per request (``/proc/PID/stat`` utime+stime) and its RSS (``/proc/PID/status`` VmRSS).
See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):  # run as a script: python benchmarks/overhead.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import loadgen
from benchmarks.fast_upstream import DELTAS
from benchmarks.request_49k import body_bytes, http_request

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
GOAL_ADDED_P50_MS = 2.5
GOAL_RPS_PER_CORE = 400.0

FULL = {1: (2000, 200), 16: (4000, 400)}  # concurrency: (measured requests, warm-up requests)
QUICK = {1: (300, 50), 16: (600, 100)}


# -- processes ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def cpu_busy_ticks() -> dict[int, int]:
    """Per CPU, the ticks spent not idle (all processes), from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                ticks = [int(v) for v in values[:8]]
                out[int(name[3:])] = sum(ticks) - ticks[3] - ticks[4]  # minus idle, iowait
    return out


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def set_priority(nice: int) -> None:
    """This process's nice value and, as the kernel schedules sessions as autogroups, its
    session's autogroup weight (the process must lead its own session for that)."""
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(nice))


def start(argv: list[str], env: dict[str, str], cpu: int | None, log: Path,
          nice: int | None = None, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        if nice is not None:
            set_priority(nice)

    out = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=pin)
    proc._bench_log = out  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    proc._bench_log.close()  # type: ignore[attr-defined]


async def wait_http(port: int, path: str, proc: subprocess.Popen[bytes], log: Path,
                    timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        try:
            status, _ = await loadgen.fetch(HOST, port, loadgen.get(path, HOST, port))
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no 200 from 127.0.0.1:{port}{path} within {timeout_s:g}s:\n"
                       f"{log.read_text(errors='replace')[-3000:]}")


# -- checks ---------------------------------------------------------------------------------

EXPECTED_TEXT = "".join(DELTAS)


def verify_anthropic_stream(body: bytes) -> str:
    events = []
    for frame in body.decode().split("\n\n"):
        if not frame.strip():
            continue
        lines = dict(line.split(": ", 1) for line in frame.split("\n"))
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"], frame
        events.append(data)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == EXPECTED_TEXT, text
    stop_reason = next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"]
    assert stop_reason == "end_turn", stop_reason
    return f"{len(events)} events, message_start .. message_stop, text ok, stop end_turn"


def verify_anthropic_json(body: bytes) -> str:
    data = json.loads(body)
    assert data["type"] == "message" and data["role"] == "assistant", data
    assert data["content"][0]["type"] == "text", data
    assert data["content"][0]["text"] == EXPECTED_TEXT, data
    assert data["stop_reason"] == "end_turn", data
    return f"message, {len(data['content'])} content block(s), text ok, stop end_turn"


def verify_openai_stream(body: bytes) -> str:
    frames = [f for f in body.decode().split("\n\n") if f]
    assert frames[-1] == "data: [DONE]", frames[-1]
    chunks = [json.loads(f[6:]) for f in frames[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks
                   if c["choices"])
    assert text == EXPECTED_TEXT, text
    return f"{len(frames)} SSE frames ending in [DONE], text ok"


def verify_openai_json(body: bytes) -> str:
    data = json.loads(body)
    assert data["choices"][0]["message"]["content"] == EXPECTED_TEXT, data
    return "chat.completion, content ok"


# -- the run --------------------------------------------------------------------------------

def git_info() -> dict[str, Any]:
    def run(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    return {"commit": run("rev-parse", "--short", "HEAD"),
            "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


async def measure(port: int, request: bytes, check: loadgen.Check, concurrency: int,
                  total: int, warmup: int, pid: int | None, server_cpu: int | None = None
                  ) -> dict[str, Any]:
    gen = await loadgen.LoadGen.open(HOST, port, concurrency, request, check)
    try:
        await gen.phase(warmup)
        ticks0 = cpu_ticks(pid) if pid else 0
        busy0 = cpu_busy_ticks()
        result = await gen.phase(total)
        busy1 = cpu_busy_ticks()
        ticks1 = cpu_ticks(pid) if pid else 0
    finally:
        gen.close()
    out = loadgen.summary(result)
    out["reconnects"] = gen.reconnects  # after a server's "connection: close"
    if pid:
        cpu_s = (ticks1 - ticks0) / CLK_TCK
        out["server_cpu_ms_per_req"] = round(cpu_s * 1000 / max(out["requests"], 1), 3)
        out["server_cpu_util"] = round(cpu_s / result.wall_s, 3)
        out["rss_kib_after"] = rss_kib(pid)
        if server_cpu is not None and server_cpu in busy0:
            # what else ran on the server's CPU meanwhile (other processes on the machine)
            other = (busy1[server_cpu] - busy0[server_cpu]) - (ticks1 - ticks0)
            out["other_load_on_server_cpu"] = round(max(other, 0) / CLK_TCK / result.wall_s, 3)
    out["cpu_busy"] = {str(c): round((busy1[c] - busy0[c]) / CLK_TCK / result.wall_s, 3)
                       for c in busy0}
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = QUICK if args.quick else FULL
    if args.requests:
        counts = {c: (args.requests * (2 if c > 1 else 1), max(20, args.requests // 10))
                  for c in counts}
    load1 = os.getloadavg()[0]
    if load1 > 0.5:
        print(f"warning: load average {load1:.2f}: other processes are running; the figures "
              f"will be pessimistic (see 'others on its CPU')", file=sys.stderr)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        lynkr_cpu, gen_cpu = cpus[-1], cpus[0]
    else:
        lynkr_cpu = gen_cpu = None
        print("warning: one CPU only; nothing is pinned", file=sys.stderr)

    own_priority = os.getpriority(os.PRIO_PROCESS, 0)
    up_port, ly_port = free_port(), free_port()
    logs = Path(tempfile.mkdtemp(prefix="lynkr-bench-"))
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_"))}
    base_env["PYTHONPATH"] = str(ROOT) + os.pathsep + base_env.get("PYTHONPATH", "")
    upstream_argv = [sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port)]
    if args.split:
        upstream_argv.append("--split")
    if args.single_chunk:
        upstream_argv.append("--single-chunk")
    lynkr_env = {**base_env, "MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "x",
                 "OPENAI_ENDPOINT": f"http://{HOST}:{up_port}/v1", "PORT": str(ly_port),
                 "LYNKR_HOST": HOST, "LOG_LEVEL": "warning",
                 "LYNKR_ENV_FILE": str(logs / "no.env")}
    upstream = lynkr = None
    try:
        upstream = start(upstream_argv, base_env, gen_cpu, logs / "upstream.log", args.nice)
        lynkr = start([sys.executable, "-m", "lynkr", "start"], lynkr_env, lynkr_cpu,
                      logs / "lynkr.log", args.nice)
        if gen_cpu is not None:
            os.sched_setaffinity(0, {gen_cpu})
        if args.nice is not None:
            set_priority(args.nice)
        await wait_http(up_port, "/health", upstream, logs / "upstream.log")
        await wait_http(ly_port, "/health/live", lynkr, logs / "lynkr.log")
        rss_start = rss_kib(lynkr.pid)

        # The requests: Anthropic bodies for Lynkr; for the direct baseline, the exact OpenAI
        # body Lynkr sent upstream (captured), with stream false for the non-streaming mode.
        ly_req = {True: http_request(HOST, ly_port, stream=True, small=args.small),
                  False: http_request(HOST, ly_port, stream=False, small=args.small)}
        checks: dict[str, str] = {}
        status, body = await loadgen.fetch(HOST, ly_port, ly_req[True])
        assert status == 200, (status, body[:500])
        checks["lynkr_stream"] = verify_anthropic_stream(body)
        _, sent = await loadgen.fetch(HOST, up_port, loadgen.get("/_last", HOST, up_port))
        openai_body = orjson.loads(sent)
        assert openai_body.get("stream") is True, "Lynkr did not ask for a stream"
        direct_json_body = {k: v for k, v in openai_body.items() if k != "stream_options"}
        direct_json_body["stream"] = False
        up_headers = {"authorization": "Bearer x", "accept-encoding": "identity",
                      "accept": "*/*", "connection": "keep-alive"}
        up_req = {True: loadgen.post("/v1/chat/completions", HOST, up_port, sent, up_headers),
                  False: loadgen.post("/v1/chat/completions", HOST, up_port,
                                      orjson.dumps(direct_json_body), up_headers)}
        if args.ingress == "openai":
            # an OpenAI client (Cursor, the openai SDK) sending the same conversation to
            # /v1/chat/completions: the body Lynkr itself produced for the Anthropic request
            client_headers = {"authorization": "Bearer any", "connection": "keep-alive"}
            chat_body = {k: v for k, v in openai_body.items() if k != "stream_options"}
            ly_req = {
                stream: loadgen.post("/v1/chat/completions", HOST, ly_port, orjson.dumps(
                    {**chat_body, "stream": stream,
                     **({"stream_options": {"include_usage": True}} if stream else {})}),
                    client_headers)
                for stream in (True, False)}
        status, body = await loadgen.fetch(HOST, ly_port, ly_req[False])
        assert status == 200, (status, body[:500])
        checks["lynkr_json"] = verify_openai_json(body) if args.ingress == "openai" \
            else verify_anthropic_json(body)
        if args.ingress == "openai":
            status, body = await loadgen.fetch(HOST, ly_port, ly_req[True])
            checks["lynkr_stream"] = verify_openai_stream(body)
        status, body = await loadgen.fetch(HOST, up_port, up_req[True])
        checks["direct_stream"] = verify_openai_stream(body)
        status, body = await loadgen.fetch(HOST, up_port, up_req[False])
        checks["direct_json"] = verify_openai_json(body)
        for name, text in checks.items():
            print(f"check {name:<14} ok: {text}", file=sys.stderr)

        scenarios = []
        for stream in (True, False):
            for concurrency in (1, 16):
                total, warmup = counts[concurrency]
                mode = "streaming" if stream else "non-streaming"
                print(f"{mode} c={concurrency}: {total} requests (+{warmup} warm-up) direct, "
                      f"then through Lynkr ...", file=sys.stderr, flush=True)
                direct = await measure(
                    up_port, up_req[stream],
                    loadgen.openai_stream_ok if stream else loadgen.openai_json_ok,
                    concurrency, total, warmup, upstream.pid)
                openai_in = args.ingress == "openai"
                through = await measure(
                    ly_port, ly_req[stream],
                    (loadgen.openai_stream_ok if openai_in else loadgen.anthropic_stream_ok)
                    if stream else
                    (loadgen.openai_json_ok if openai_in else loadgen.anthropic_json_ok),
                    concurrency, total, warmup, lynkr.pid, lynkr_cpu)
                scenarios.append({
                    "mode": mode, "concurrency": concurrency,
                    "direct": direct, "lynkr": through,
                    "added_p50_ms": round(through["p50_ms"] - direct["p50_ms"], 3),
                    "added_p99_ms": round(through["p99_ms"] - direct["p99_ms"], 3),
                    "added_p10_ms": round(through["p10_ms"] - direct["p10_ms"], 3),
                })
                if direct["errors"] or through["errors"]:
                    print(f"  errors: direct {direct['errors']} ({direct['first_error']}), "
                          f"lynkr {through['errors']} ({through['first_error']})",
                          file=sys.stderr)
        rss_end = rss_kib(lynkr.pid)
        if lynkr.poll() is not None:
            raise RuntimeError("Lynkr exited during the run")
    finally:
        stop(lynkr)
        stop(upstream)
        if gen_cpu is not None:
            os.sched_setaffinity(0, set(cpus))
        if args.nice is not None:
            os.setpriority(os.PRIO_PROCESS, 0, own_priority)

    stream_c1 = scenarios[0]
    stream_c16 = scenarios[1]
    best_rps = max(stream_c1["lynkr"]["rps"], stream_c16["lynkr"]["rps"])
    return {
        "benchmark": "lynkr overhead, 49 KB Claude Code request",
        "ingress": args.ingress,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **git_info(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "lynkr_cpu": lynkr_cpu,
                    "loadgen_and_upstream_cpu": gen_cpu},
        "quick": bool(args.quick),
        "loadavg_1min_at_start": round(load1, 2),
        "nice": args.nice,
        "upstream_split_writes": bool(args.split),
        "upstream_single_chunk": bool(args.single_chunk),
        "request_bytes": {"anthropic_body": len(body_bytes(True, args.small)),
                          "openai_body": len(sent)},
        "checks": checks,
        "lynkr_rss_kib": {"after_start": rss_start, "after_run": rss_end},
        "scenarios": scenarios,
        "goals": {
            "added_p50_ms_streaming_c1": stream_c1["added_p50_ms"],
            "added_p50_goal_ms": GOAL_ADDED_P50_MS,
            "added_p50_met": stream_c1["added_p50_ms"] <= GOAL_ADDED_P50_MS,
            "rps_per_core_streaming": best_rps,
            "rps_per_core_streaming_cpu_bound": round(
                1000 / stream_c16["lynkr"]["server_cpu_ms_per_req"], 1)
            if stream_c16["lynkr"]["server_cpu_ms_per_req"] else None,
            "rps_goal": GOAL_RPS_PER_CORE,
            "rps_met": best_rps >= GOAL_RPS_PER_CORE,
        },
        "logs": str(logs),
    }


def table(report: dict[str, Any]) -> str:
    head = ("mode", "c", "direct p50", "direct p99", "lynkr p50", "lynkr p99", "added p50",
            "added p99", "lynkr req/s", "direct req/s", "lynkr CPU ms/req", "lynkr CPU %",
            "others on its CPU %", "errors")
    rows = [head]
    for s in report["scenarios"]:
        d, ly = s["direct"], s["lynkr"]
        rows.append((s["mode"], str(s["concurrency"]), f"{d['p50_ms']:.2f}",
                     f"{d['p99_ms']:.2f}", f"{ly['p50_ms']:.2f}", f"{ly['p99_ms']:.2f}",
                     f"{s['added_p50_ms']:+.2f}", f"{s['added_p99_ms']:+.2f}",
                     f"{ly['rps']:.0f}", f"{d['rps']:.0f}",
                     f"{ly['server_cpu_ms_per_req']:.2f}",
                     f"{ly['server_cpu_util'] * 100:.0f}",
                     f"{ly.get('other_load_on_server_cpu', 0) * 100:.0f}",
                     str(d["errors"] + ly["errors"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    g, rss = report["goals"], report["lynkr_rss_kib"]
    lines.append("")
    lines.append("latencies in ms (write of the request to the last byte of the response); "
                 "req/s through Lynkr are per core (Lynkr pinned to one CPU)")
    worst = max(s["lynkr"].get("other_load_on_server_cpu", 0) for s in report["scenarios"])
    if worst > 0.05:
        lines.append(f"WARNING: other processes used up to {worst * 100:.0f}% of Lynkr's CPU "
                     f"during the run; its figures are pessimistic. Re-run on a quiet machine.")
    lines.append(f"Lynkr RSS: {rss['after_start'] / 1024:.1f} MiB after start, "
                 f"{rss['after_run'] / 1024:.1f} MiB after the run")
    lines.append(f"goal added p50 <= {g['added_p50_goal_ms']} ms (streaming, c=1): "
                 f"{g['added_p50_ms_streaming_c1']:.2f} ms -> "
                 f"{'MET' if g['added_p50_met'] else 'NOT MET'}")
    lines.append(f"goal >= {g['rps_goal']:.0f} req/s per core (streaming): "
                 f"{g['rps_per_core_streaming']:.0f} req/s measured "
                 f"(CPU-bound estimate {g['rps_per_core_streaming_cpu_bound']} req/s) -> "
                 f"{'MET' if g['rps_met'] else 'NOT MET'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lynkr overhead benchmark")
    parser.add_argument("--quick", action="store_true", help="short run (under a minute)")
    parser.add_argument("--ingress", choices=("anthropic", "openai"), default="anthropic",
                        help="client dialect: Claude Code's /v1/messages (default) or an "
                             "OpenAI client's /v1/chat/completions")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--requests", type=int,
                        help="measured requests at c=1 (twice that at c=16)")
    parser.add_argument("--split", action="store_true",
                        help="the fake upstream writes each SSE chunk separately")
    parser.add_argument("--small", action="store_true",
                        help="the 1 KB request (request_49k.small_body) instead of 49 KB")
    parser.add_argument("--single-chunk", action="store_true",
                        help="the fake upstream sends all SSE events in one HTTP chunk "
                             "(an experiment: shows the per-upstream-chunk share of the cost)")
    parser.add_argument("--nice", type=int, metavar="N",
                        help="run Lynkr, the upstream and the load generator at this nice value "
                             "(e.g. -10, needs root) to shield them from other load")
    args = parser.parse_args(argv)
    if args.nice is not None and os.getsid(0) != os.getpid():
        # --nice needs its own session (its own scheduler autogroup) for the load generator
        try:
            os.setsid()
        except PermissionError:  # a process-group leader (run from a shell): re-run as a child
            child = subprocess.Popen([sys.executable, "-m", "benchmarks.overhead",
                                      *(sys.argv[1:] if argv is None else argv)],
                                     cwd=ROOT, start_new_session=True)
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
                return child.wait()
    started = time.monotonic()
    report = asyncio.run(run(args))
    report["duration_s"] = round(time.monotonic() - started, 1)
    print(table(report))
    print(f"(run took {report['duration_s']} s; process logs in {report['logs']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    failed = any(s["direct"]["errors"] or s["lynkr"]["errors"] for s in report["scenarios"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
