"""MCP servers through the ``mcp`` box: time to ready and per-call latency, for a real PyPI
server (mcp-server-time) over stdio unisolated and in bubblewrap, and a FastMCP server over
streamable HTTP.

    python -m benchmarks.mcp_calls [--calls 200] [--json benchmarks/results/mcp-calls.json]

Each case starts the box in a fresh nursery (as ``lynkr start`` does), waits until the server
is ready, then makes ``--calls`` sequential ``tools/call`` round trips through
``McpBox.run`` (the path the tool loop takes) and reports median and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from lynkr.mcp.start import open_mcp_box
from lynkr.tools.port import ToolContext

SERVER = str(Path(__file__).resolve().parents[1] / "tests" / "harness" / "mcp_test_server.py")
TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}
CONTEXT = ToolContext("bench", None, "default", "", 0.0)


async def measure(
    servers: dict[str, Any], tool: str, arguments: dict[str, Any], calls: int, **variables: str
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / ".mcp.json"
        manifest.write_text(json.dumps({"mcpServers": servers}))
        environ = {**os.environ, "MCP_MANIFEST_DIRS": str(manifest), **variables}
        async with trio.open_nursery() as nursery:
            start = time.perf_counter()
            box = await open_mcp_box(environ, nursery)
            assert box is not None
            await box.supervisor.wait_settled()
            ready_ms = (time.perf_counter() - start) * 1000
            [handle] = box.supervisor.handles.values()
            assert handle.state == "ready", handle.last_error
            times = []
            for _ in range(calls):
                t0 = time.perf_counter()
                outcome = await box.run(tool, arguments, CONTEXT)
                times.append((time.perf_counter() - t0) * 1000)
                assert not outcome.is_error, outcome.text
            nursery.cancel_scope.cancel()
    times.sort()
    return {
        "ready_ms": round(ready_ms, 1),
        "call_median_ms": round(statistics.median(times), 3),
        "call_p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
        "calls": calls,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(calls: int) -> dict[str, Any]:
    args = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
    results = {
        "stdio, unisolated (mcp-server-time)": await measure(
            {"time": TIME}, "mcp_time_convert_time", args, calls, MCP_SANDBOX_ENABLED="false"
        )
    }
    if shutil.which("bwrap"):
        results["stdio, bubblewrap (mcp-server-time)"] = await measure(
            {"time": TIME}, "mcp_time_convert_time", args, calls, MCP_SANDBOX_ENABLED="true"
        )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, SERVER, "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await trio.sleep(0.1)
        results["streamable HTTP (FastMCP)"] = await measure(
            {"remote": {"type": "http", "url": f"http://127.0.0.1:{port}/mcp"}},
            "mcp_remote_echo",
            {"text": "x"},
            calls,
        )
    finally:
        proc.terminate()
        proc.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--json", help="write the results there too")
    options = parser.parse_args()
    results = trio.run(run, options.calls)
    for case, figures in results.items():
        print(
            f"{case:40} ready {figures['ready_ms']:8.1f} ms   call median "
            f"{figures['call_median_ms']:7.3f} ms   p95 {figures['call_p95_ms']:7.3f} ms"
        )
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
