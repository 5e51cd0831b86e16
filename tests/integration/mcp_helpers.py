"""Running the ``mcp`` box against real MCP servers in a test: a manifest written to a temporary
folder, the servers started in a nursery of the test, stopped when it ends."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from lynkr.mcp.box import McpBox
from lynkr.mcp.start import open_mcp_box
from lynkr.tools.port import ToolContext, ToolOutcome

SERVER = str(Path(__file__).resolve().parents[1] / "harness" / "mcp_test_server.py")
CONTEXT = ToolContext("req-mcp", None, "default", "", 0.0)


def misbehaving(*args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A manifest entry running tests/harness/mcp_test_server.py over stdio."""
    entry: dict[str, Any] = {"command": sys.executable, "args": [SERVER, "stdio", *args]}
    if env:
        entry["env"] = dict(env)
    return entry


@asynccontextmanager
async def running(
    tmp_path: Path, servers: Mapping[str, Any], **variables: str
) -> AsyncIterator[McpBox]:
    """The box for ``servers`` (an ``mcpServers`` object), every server settled."""
    manifest = tmp_path / "manifests" / ".mcp.json"
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text(json.dumps({"mcpServers": servers}))
    environ = {**os.environ, "MCP_MANIFEST_DIRS": str(manifest), **variables}
    async with trio.open_nursery() as nursery:
        box = await open_mcp_box(environ, nursery)
        assert box is not None
        with trio.fail_after(60):
            await box.supervisor.wait_settled()
        yield box
        nursery.cancel_scope.cancel()


async def call(box: McpBox, tool: str, /, **arguments: Any) -> ToolOutcome:
    return await box.run(tool, arguments, CONTEXT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for_port(port: int, seconds: float = 30) -> None:
    with trio.fail_after(seconds):
        while True:
            try:
                stream = await trio.open_tcp_stream("127.0.0.1", port)
            except OSError:
                await trio.sleep(0.1)
                continue
            await stream.aclose()
            return


@contextmanager
def process(
    argv: list[str], env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        argv,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def everything_bin() -> str:
    """npm's @modelcontextprotocol/server-everything, as tests/run.py installs it."""
    path = os.environ.get("LYNKR_MCP_EVERYTHING_BIN")
    if path and Path(path).exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(
            "CI requires @modelcontextprotocol/server-everything (tests/run.py "
            "installs it with npm)"
        )
    pytest.skip(
        "@modelcontextprotocol/server-everything is not installed: run the suite "
        "with `python tests/run.py` (it needs npm)"
    )


def bwrap_works() -> str | None:
    """Why bubblewrap cannot isolate here, or None when it can."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not installed"
    result = subprocess.run(
        [bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return f"bwrap cannot create namespaces here: {result.stderr.decode().strip()}"
    return None


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ")[1].startswith("Z")
