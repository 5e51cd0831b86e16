"""Peers side by side: Lynkr, claude-code-router (npm) and LiteLLM (PyPI) relaying the same
token-paced streams in one run (issue 17, deliverable 1).

    python -m benchmarks.peers --setup               # installs the peers under .cache/peers
    python -m benchmarks.peers [--levels 1 50] [--chunks 500] [--interval-ms 10] [--json PATH]

``--setup`` installs LiteLLM (``litellm[proxy]``) into its own venv and claude-code-router
(``@musistudio/claude-code-router``) with npm into its own prefix, both under ``.cache/peers``
(ignored by git; nothing the test command needs). A peer that is not installed is skipped and
said so. The fake (``fast_upstream --chunks N --interval-ms T``) serves every target; each
target in turn is started pinned to one CPU (the fake and the clients on the other), checked
on one whole answer of the 49 KB Claude Code request (``/v1/messages``, OpenAI upstream), then
driven at each level with ``c`` concurrent streams, as in ``benchmarks.streams``. Reported per
level: CPU µs per relayed chunk (the target's process group), time to the first token, the p90
cadence slip, and each peer's CPU per chunk as a ratio to Lynkr's. Every process is killed by
process group at the end; loopback only; every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import loadgen
from benchmarks.overhead import HOST, ROOT, free_port, git_info, rss_kib, start, stop, wait_http
from benchmarks.request_49k import build_body, http_request
from benchmarks.streams import lynkr_env, measured, run_streams, stream_figures

PEERS = ROOT / ".cache" / "peers"
KEY = "sk-bench-7f3a9c1e5b2d4f608a1c3e5b7d9f0a2c"  # every target gets it as x-api-key (LiteLLM
# requires a master key; Lynkr without LYNKR_AUTH and claude-code-router without APIKEY ignore it)
LITELLM = PEERS / "litellm-venv" / "bin" / "litellm"
CCR = PEERS / "ccr" / "node_modules" / "@musistudio" / "claude-code-router" / "dist" / "cli.js"


def setup() -> None:
    PEERS.mkdir(parents=True, exist_ok=True)
    if not LITELLM.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS / "litellm-venv")], check=True)
        subprocess.run([str(PEERS / "litellm-venv" / "bin" / "pip"), "install", "-q",
                        "litellm[proxy]"], check=True)
    if not CCR.exists():
        subprocess.run(["npm", "install", "--prefix", str(PEERS / "ccr"), "--no-audit",
                        "--no-fund", "@musistudio/claude-code-router@2.0.0"], check=True)


def ccr_target(work: Path, up_port: int, port: int, base: dict[str, str]
               ) -> tuple[list[str], dict[str, str], str]:
    conf = work / "ccr-home" / ".claude-code-router"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "config.json").write_text(json.dumps({
        "PORT": port, "HOST": HOST, "LOG": False, "API_TIMEOUT_MS": 600000,
        "Providers": [{"name": "fake", "api_base_url":
                       f"http://{HOST}:{up_port}/v1/chat/completions", "api_key": "x",
                       "models": ["bench-model"]}],
        "Router": {"default": "fake,bench-model"}}))
    return ["node", str(CCR), "start"], {**base, "HOME": str(work / "ccr-home")}, "/"


def litellm_target(work: Path, up_port: int, port: int, base: dict[str, str]
                   ) -> tuple[list[str], dict[str, str], str]:
    model = build_body()["model"]
    (work / "litellm.yaml").write_text(
        f"model_list:\n  - model_name: {model}\n    litellm_params:\n"
        f"      model: openai/bench-model\n      api_base: http://{HOST}:{up_port}/v1\n"
        f"      api_key: x\nlitellm_settings:\n  drop_params: true\n")
    argv = [str(LITELLM), "--config", str(work / "litellm.yaml"), "--host", HOST, "--port",
            str(port), "--num_workers", "1"]
    # its /v1/messages for an OpenAI model calls the Responses API unless told to use chat
    return argv, {**base, "LITELLM_LOG": "ERROR", "LITELLM_MASTER_KEY": KEY,
                  "LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES": "true"}, \
        "/health/liveliness"


def lynkr_target(work: Path, up_port: int, port: int, base: dict[str, str]
                 ) -> tuple[list[str], dict[str, str], str]:
    return [sys.executable, "-m", "lynkr", "start"], lynkr_env(base, up_port, port, work), \
        "/health/live"


TARGETS = {"lynkr": (lynkr_target, None), "claude-code-router": (ccr_target, CCR),
           "litellm": (litellm_target, LITELLM)}


def complete(last: bytes) -> loadgen.Check:
    return lambda status, body: status == 200 and last in body and b"message_stop" in body[-300:]


async def measure(name: str, args: argparse.Namespace, base: dict[str, str], work: Path,
                  up_port: int, cpus: tuple[int, int]) -> dict[str, Any]:
    build, installed = TARGETS[name]
    if installed is not None and not installed.exists():
        return {"skipped": f"not installed ({installed}); run with --setup"}
    port = free_port()
    argv, env, ready = build(work, up_port, port, base)
    log = work / f"{name}.log"
    proc = start(argv, env, cpus[1], log)
    n, interval = args.chunks, args.interval_ms / 1000
    ideal_s = (n + 3) * interval
    ok = complete(f"tok{n - 1} ".encode())
    try:
        if ready == "/":  # claude-code-router has no health route: wait for its port
            await wait_port(port, proc, log)
        else:
            await wait_http(port, ready, proc, log, timeout_s=120)
        request = http_request(HOST, port, stream=True).replace(
            b"\r\n", f"\r\nx-api-key: {KEY}\r\n".encode(), 1)
        status, body = await loadgen.fetch(HOST, port, request)
        if not ok(status, body):
            return {"failed_check": f"status {status}: {body[-300:]!r}"}
        levels = []
        for c in args.levels:
            print(f"{name} c={c} ...", file=sys.stderr, flush=True)
            res, cpu_s = await measured(proc.pid, run_streams(
                port, request, ok, c, 1, interval, ideal_s * 4 + 60))
            row = {"concurrency": c, **stream_figures(res, ideal_s)}
            events = row["streams"] * (n + 4)
            row["cpu_us_per_chunk"] = round(cpu_s * 1e6 / max(events, 1), 1)
            row["cpu_util"] = round(cpu_s / res["wall_s"], 3)
            levels.append(row)
            print(f"  {row}", file=sys.stderr, flush=True)
        return {"levels": levels, "rss_kib_end": rss_kib(proc.pid)}
    finally:
        stop(proc)


async def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            _r, w = await asyncio.open_connection(HOST, port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port} after 60 s")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    cpus_avail = sorted(os.sched_getaffinity(0))
    if len(cpus_avail) < 2:
        sys.exit("peers: needs two CPUs")
    cpus = (cpus_avail[0], cpus_avail[-1])
    os.sched_setaffinity(0, {cpus[0]})
    work = Path(tempfile.mkdtemp(prefix="lynkr-peers-"))
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "OLLAMA_", "LYNKR_", "MODEL_", "ANTHROPIC_"))}
    base["PYTHONPATH"] = str(ROOT) + os.pathsep + base.get("PYTHONPATH", "")
    up_port = free_port()
    upstream = start([sys.executable, "-m", "benchmarks.fast_upstream", "--port", str(up_port),
                      "--chunks", str(args.chunks), "--interval-ms", str(args.interval_ms)],
                     base, cpus[0], work / "upstream.log")
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "git": git_info(),
        "load_average_at_start": os.getloadavg()[0], "logs": str(work),
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "setup")}}
    try:
        await wait_http(up_port, "/health", upstream, work / "upstream.log")
        report["targets"] = {name: await measure(name, args, base, work, up_port, cpus)
                             for name in args.targets}
    finally:
        stop(upstream)
    lynkr = {r["concurrency"]: r["cpu_us_per_chunk"]
             for r in report["targets"].get("lynkr", {}).get("levels", [])}
    report["cpu_per_chunk_ratio_to_lynkr"] = {
        name: {str(r["concurrency"]): round(r["cpu_us_per_chunk"] / lynkr[r["concurrency"]], 2)
               for r in result.get("levels", []) if lynkr.get(r["concurrency"])}
        for name, result in report["targets"].items() if name != "lynkr"}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lynkr beside claude-code-router and LiteLLM")
    parser.add_argument("--setup", action="store_true", help="install the peers first")
    parser.add_argument("--targets", nargs="+", choices=tuple(TARGETS), default=list(TARGETS))
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--interval-ms", type=float, default=10.0)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if args.setup:
        setup()
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2) + "\n"
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
