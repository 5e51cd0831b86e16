"""The ``mcp`` box against real MCP servers: mcp-server-time (PyPI) over stdio, a FastMCP server
over streamable HTTP, npm's server-everything over stdio and streamable HTTP, and servers that
crash in the middle of a call, hang, or cannot start."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import trio
from mcp_helpers import (
    SERVER,
    call,
    everything_bin,
    free_port,
    misbehaving,
    pid_gone,
    process,
    running,
    wait_for_port,
)

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


async def test_a_pypi_server_over_stdio_offers_and_runs_its_tools(tmp_path: Path) -> None:
    async with running(tmp_path, {"time": TIME}) as box:
        names = [t.name for t in box.tools()]
        assert names == ["mcp_time_convert_time", "mcp_time_get_current_time", "workspace_mcp_call"]
        schema = next(t for t in box.tools() if t.name == "mcp_time_convert_time").input_schema
        assert schema["type"] == "object" and "target_timezone" in schema["properties"]
        outcome = await call(
            box,
            "mcp_time_convert_time",
            source_timezone="UTC",
            time="12:00",
            target_timezone="Asia/Tokyo",
        )
        assert not outcome.is_error
        assert json.loads(outcome.text)["target"]["datetime"].endswith("T21:00:00+09:00")
        generic = await call(
            box,
            "workspace_mcp_call",
            server="time",
            tool="get_current_time",
            arguments={"timezone": "Europe/Paris"},
        )
        assert json.loads(generic.text)["timezone"] == "Europe/Paris"
        bad = await call(box, "mcp_time_get_current_time", timezone="Mars/Olympus")
        assert bad.is_error and "Mars/Olympus" in bad.text


async def test_a_server_over_streamable_http(tmp_path: Path) -> None:
    port = free_port()
    with process([sys.executable, SERVER, "http", str(port)]):
        await wait_for_port(port)
        servers = {
            "remote": {
                "type": "http",
                "url": f"http://127.0.0.1:{port}/mcp",
                "headers": {"X-Team": "lynkr"},
            }
        }
        async with running(tmp_path, servers) as box:
            handle = box.supervisor.handles["remote"]
            assert (handle.state, handle.isolation_detail) == ("ready", "none (remote)")
            assert "mcp_remote_echo" in [t.name for t in box.tools()]
            assert (await call(box, "mcp_remote_echo", text="over http")).text == "echo: over http"


async def test_npm_server_everything_over_stdio(tmp_path: Path) -> None:
    async with running(
        tmp_path, {"everything": {"command": everything_bin(), "args": ["stdio"]}}
    ) as box:
        assert box.supervisor.handles["everything"].state == "ready"
        names = {t.name for t in box.tools()}
        assert {"mcp_everything_echo", "mcp_everything_get_sum"} <= names
        assert (await call(box, "mcp_everything_echo", message="hi")).text == "Echo: hi"
        total = await call(box, "mcp_everything_get_sum", a=2, b=3)
        assert not total.is_error and "5" in total.text
        image = await call(box, "mcp_everything_get_tiny_image")
        assert "[image image/png," in image.text


async def test_npm_server_everything_over_streamable_http(tmp_path: Path) -> None:
    port = free_port()
    with process([everything_bin(), "streamableHttp"], env={"PORT": str(port)}):
        await wait_for_port(port)
        servers = {"everything": {"type": "http", "url": f"http://127.0.0.1:{port}/mcp"}}
        async with running(tmp_path, servers) as box:
            assert (await call(box, "mcp_everything_echo", message="http")).text == "Echo: http"


async def test_a_crash_mid_call_is_an_error_result_and_the_server_comes_back(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    async with running(tmp_path, {"flaky": misbehaving(str(pids))}) as box:
        handle = box.supervisor.handles["flaky"]
        start = trio.current_time()
        outcome = await call(box, "mcp_flaky_crash")
        assert outcome.is_error
        assert "crashing on purpose" in outcome.text  # the server's stderr, in the result
        assert trio.current_time() - start < 10  # at once, not at the call timeout (25 s)
        with trio.fail_after(30):
            while handle.state != "ready" or handle.restarts < 1:
                await trio.sleep(0.1)
        assert "crashing on purpose" in (handle.last_error or "") or handle.last_error is None
        assert (await call(box, "mcp_flaky_echo", text="back")).text == "echo: back"
        first, second = pids.read_text().split()
        assert first != second and pid_gone(int(first))


async def test_a_hung_server_times_out_the_call_and_is_restarted(tmp_path: Path) -> None:
    async with running(tmp_path, {"stuck": misbehaving()}, MCP_CALL_TIMEOUT_MS="1500") as box:
        handle = box.supervisor.handles["stuck"]
        start = trio.current_time()
        outcome = await call(box, "mcp_stuck_hang")
        elapsed = trio.current_time() - start
        assert outcome.is_error and "did not answer within 1.5 s" in outcome.text
        assert 1.4 < elapsed < 5
        with trio.fail_after(30):  # the watcher pings at once, gets nothing, restarts it
            while handle.restarts < 1 or handle.state != "ready":
                await trio.sleep(0.1)
        assert (await call(box, "mcp_stuck_echo", text="alive")).text == "echo: alive"


async def test_shutdown_stops_every_server_process(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    async with running(tmp_path, {"a": misbehaving(str(pids)), "b": misbehaving(str(pids))}):
        alive = [int(p) for p in pids.read_text().split()]
        assert len(alive) == 2 and not any(pid_gone(p) for p in alive)
    assert all(pid_gone(p) for p in alive)


async def test_a_server_that_cannot_start_answers_calls_at_once_and_keeps_retrying(
    tmp_path: Path,
) -> None:
    servers = {"ghost": {"command": str(tmp_path / "no-such-server")}, "time": TIME}
    async with running(tmp_path, servers) as box:
        ghost = box.supervisor.handles["ghost"]
        assert ghost.state == "restarting" and "no-such-server" in (ghost.last_error or "")
        start = trio.current_time()
        outcome = await call(box, "workspace_mcp_call", server="ghost", tool="anything")
        assert outcome.is_error and "not available" in outcome.text
        assert trio.current_time() - start < 1
        assert box.supervisor.handles["time"].state == "ready"  # the good one is unaffected
        unknown = await call(box, "workspace_mcp_call", server="nope", tool="x")
        assert unknown.is_error and "servers: ghost, time" in unknown.text
