"""Where Lynkr's time goes: the server in-process under a profiler while a load generator (a
separate process) drives the 49 KB Claude Code request through it.

    python -m benchmarks.profile_hot_path [--requests 1000] [--concurrency 1] [--json]
                                          [--profiler pyinstrument|cprofile] [--top 35]
                                          [--tree] [--html PATH]

The fake upstream (``benchmarks.fast_upstream``) and the load generator (``benchmarks.loadgen``)
run as subprocesses pinned to one CPU, Lynkr (hypercorn + trio, exactly as ``lynkr start``
builds it) runs here pinned to the other. After a warm-up, the profiler records the main thread
while ``--requests`` requests are served, then prints the top functions by cumulative time
(time with the function on the stack, counted once per stack however deep it recurses), the
top by self time, and the time the event loop sat idle.

``pyinstrument`` (statistical, low overhead) is used if installed, else ``cProfile`` (exact
call counts, but its per-call overhead inflates small functions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.overhead import HOST, ROOT, free_port, start, stop

IDLE = ("epoll.poll", "select.epoll.poll", "poll", "select", "get_events",
        "[await]", "[idle]")  # where the trio loop waits for I/O


def _pyinstrument_tables(session: Any, requests: int, top: int) -> dict[str, Any]:
    root = session.root_frame()
    cum: dict[str, float] = defaultdict(float)
    self_t: dict[str, float] = defaultdict(float)

    def key(frame: Any) -> str:
        path = frame.file_path_short or frame.file_path or ""
        return f"{frame.function}  {path}:{frame.line_no}" if path else frame.function

    # iterative walk: (frame, keys already on the stack above it)
    stack: list[tuple[Any, frozenset[str]]] = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        k = key(frame)
        if k not in above:
            cum[k] += frame.time
        self_t[k] += frame.total_self_time
        inner = above | {k}
        stack.extend((child, inner) for child in frame.children)
    total = root.time
    idle = sum(t for k, t in self_t.items() if k.split("  ")[0] in IDLE)
    return {"total_s": total, "idle_s": idle, "cum": cum, "self": self_t}


def _print_tables(tables: dict[str, Any], requests: int, top: int, wall: float) -> None:
    total, idle = tables["total_s"], tables["idle_s"]
    busy = total - idle
    print(f"\nprofiled {requests} requests in {wall:.2f} s wall; sampled {total:.2f} s on the "
          f"main thread, of which idle in the event loop's I/O wait {idle:.2f} s, busy "
          f"{busy:.2f} s = {busy * 1000 / requests:.2f} ms per request\n")
    for title, table in (("cumulative", tables["cum"]), ("self", tables["self"])):
        print(f"top {top} by {title} time (ms per request, % of busy time)")
        rows = sorted(table.items(), key=lambda kv: kv[1], reverse=True)
        shown = 0
        for name, t in rows:
            if name.split("  ")[0] in IDLE:
                continue
            print(f"  {t * 1000 / requests:8.3f} ms  {100 * t / busy if busy else 0:5.1f}%  "
                  f"{name}")
            shown += 1
            if shown >= top:
                break
        print()


def _lynkr_only(tables: dict[str, Any], requests: int, top: int) -> None:
    total_busy = tables["total_s"] - tables["idle_s"]
    rows = sorted(((k, v) for k, v in tables["cum"].items() if "lynkr/" in k),
                  key=lambda kv: kv[1], reverse=True)[:top]
    print(f"top {top} Lynkr functions by cumulative time")
    for name, t in rows:
        print(f"  {t * 1000 / requests:8.3f} ms  "
              f"{100 * t / total_busy if total_busy else 0:5.1f}%  {name}")
    print()


def run(args: argparse.Namespace) -> int:
    import trio

    from lynkr.config.settings import load_settings
    from lynkr.observability.logs import configure
    from lynkr.server.app import build_state
    from lynkr.server.serve import hypercorn_config, serve_app

    cpus = sorted(os.sched_getaffinity(0))
    lynkr_cpu, gen_cpu = (cpus[-1], cpus[0]) if len(cpus) >= 2 else (None, None)
    up_port, ly_port = free_port(), free_port()
    logs = Path(tempfile.mkdtemp(prefix="lynkr-profile-"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    settings = load_settings({"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "x",
                              "OPENAI_ENDPOINT": f"http://{HOST}:{up_port}/v1",
                              "PORT": str(ly_port), "LYNKR_HOST": HOST,
                              "LOG_LEVEL": "warning"}, env_file=str(logs / "no.env"))
    configure(settings.log_level)
    state = build_state(settings)
    config = hypercorn_config(settings, bind=f"{HOST}:{ly_port}")

    def loadgen_argv(n: int) -> list[str]:
        argv = [sys.executable, "-m", "benchmarks.loadgen", "--port", str(ly_port),
                "--requests", str(n), "--concurrency", str(args.concurrency)]
        if gen_cpu is not None:
            argv += ["--cpu", str(gen_cpu)]
        return argv + (["--json"] if args.json else []) + (["--small"] if args.small else [])

    use_pyinstrument = args.profiler == "pyinstrument"
    if use_pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed; using cProfile", file=sys.stderr)
            use_pyinstrument = False
    outcome: dict[str, Any] = {}

    async def main() -> None:
        shutdown = trio.Event()
        async with trio.open_nursery() as nursery:
            await nursery.start(partial(serve_app, state, config, handle_signals=False,
                                        shutdown=shutdown))
            cwd = str(ROOT)
            await trio.run_process(loadgen_argv(args.warmup), capture_stdout=True, env=env,
                                   cwd=cwd)
            if use_pyinstrument:
                profiler = Profiler(interval=args.interval, async_mode="disabled")
                profiler.start()
            else:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            t0 = time.perf_counter()
            done = await trio.run_process(loadgen_argv(args.requests), capture_stdout=True,
                                          env=env, cwd=cwd)
            outcome["wall"] = time.perf_counter() - t0
            if use_pyinstrument:
                outcome["session"] = profiler.stop()
                outcome["profiler"] = profiler
            else:
                profiler.disable()
                outcome["cprofile"] = profiler
            outcome["load"] = json.loads(done.stdout)
            shutdown.set()

    upstream = None
    try:
        upstream = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port",
                          str(up_port)], env, gen_cpu, logs / "upstream.log")
        deadline = time.monotonic() + 20
        while b"listening" not in (logs / "upstream.log").read_bytes():
            if time.monotonic() > deadline or upstream.poll() is not None:
                raise RuntimeError("fast_upstream did not start")
            time.sleep(0.05)
        if lynkr_cpu is not None:
            os.sched_setaffinity(0, {lynkr_cpu})
        trio.run(main)
    finally:
        stop(upstream)
        os.sched_setaffinity(0, set(cpus))

    load = outcome["load"]
    print(f"load: {load['requests']} {'non-streaming' if args.json else 'streaming'} requests "
          f"at concurrency {args.concurrency}, {load['errors']} errors, p50 {load['p50_ms']} ms, "
          f"p99 {load['p99_ms']} ms, {load['rps']} req/s (under the profiler: slower than "
          f"without)")
    n = load["requests"] + load["errors"]
    if use_pyinstrument:
        session = outcome["session"]
        tables = _pyinstrument_tables(session, n, args.top)
        _print_tables(tables, n, args.top, outcome["wall"])
        _lynkr_only(tables, n, args.top)
        if args.tree:
            print(outcome["profiler"].output_text(unicode=False, color=False,
                                                  show_all=False))
        if args.html:
            Path(args.html).write_text(outcome["profiler"].output_html())
            print(f"HTML profile written to {args.html}")
    else:
        import pstats

        stats = pstats.Stats(outcome["cprofile"])
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0 if load["errors"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile Lynkr's hot path")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="non-streaming requests")
    parser.add_argument("--small", action="store_true", help="the 1 KB request")
    parser.add_argument("--profiler", choices=("pyinstrument", "cprofile"),
                        default="pyinstrument")
    parser.add_argument("--interval", type=float, default=0.0002,
                        help="pyinstrument sampling interval in seconds")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--dump", metavar="PATH", help="cProfile: also save the stats here")
    parser.add_argument("--tree", action="store_true", help="also print the call tree")
    parser.add_argument("--html", metavar="PATH", help="write pyinstrument's HTML view here")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
