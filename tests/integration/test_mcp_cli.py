"""``lynkr mcp list`` as a user runs it: a real process, real servers from a manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def lynkr(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LYNKR_ENV_FILE": str(tmp_path / "none.env"), **variables}
    return subprocess.run(
        [sys.executable, "-m", "lynkr", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_shows_servers_state_isolation_tools_and_manifest_problems(tmp_path: Path) -> None:
    manifest = tmp_path / ".mcp.json"
    manifest.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "time": TIME,
                    "ghost": {"command": "lynkr-no-such-server"},
                    "broken": {"type": "http"},
                }
            }
        )
    )
    done = lynkr(tmp_path, "mcp", "list", MCP_MANIFEST_DIRS=str(manifest))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"manifests: {manifest}",
        f'problem: {manifest}: mcpServers.broken.url: an http server needs an http(s) "url", '
        "got None",
        "time  stdio  ready  isolation: none  (2 tools)",
        f"  {sys.executable} -m mcp_server_time --local-timezone UTC",
        "  - mcp_time_convert_time",
        "  - mcp_time_get_current_time",
        "ghost  stdio  restarting  isolation: none  (0 tools)",
        "  lynkr-no-such-server",
        "  error: command not found: lynkr-no-such-server",
    ]


def test_list_as_json_exits_0_when_every_server_is_ready(tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"servers": [{"id": "clock", **TIME}]}))
    done = lynkr(
        tmp_path, "mcp", "list", "--json", MCP_SERVER_MANIFEST=str(manifest), MCP_MANIFEST_DIRS=""
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["problems"] == []
    [server] = report["servers"]
    assert (server["name"], server["state"], server["tools"]) == (
        "clock",
        "ready",
        ["mcp_clock_convert_time", "mcp_clock_get_current_time"],
    )


def test_list_without_any_manifest(tmp_path: Path) -> None:
    done = lynkr(
        tmp_path, "mcp", "list", MCP_MANIFEST_DIRS=str(tmp_path / "empty"), HOME=str(tmp_path)
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"no MCP manifest found (looked in: {tmp_path / 'empty'})",
        f"problem: {tmp_path / 'empty'}: (path): no such file or directory",
    ]
