"""MCP servers isolated with bubblewrap (MCP_SANDBOX_ENABLED=true): what a real server can and
cannot do inside, compared with the same server unisolated; and a container image with no
working container runtime, which must not start the server at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio
from mcp_helpers import bwrap_works, call, everything_bin, misbehaving, running

reason = bwrap_works()
needs_bwrap = pytest.mark.skipif(reason is not None, reason=f"sandbox tests skipped: {reason}")


async def listener() -> tuple[trio.SocketListener, int]:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    return listeners[0], listeners[0].socket.getsockname()[1]


@needs_bwrap
@pytest.mark.parametrize(
    ("variables", "network", "workspace_write", "isolation"),
    [
        ({"MCP_SANDBOX_ENABLED": "false"}, "connected", "written", "none"),
        (
            {"MCP_SANDBOX_ENABLED": "true"},
            "error",
            "error: Read-only file system",
            "bwrap (no network, workspace {ws} ro)",
        ),
        (
            {
                "MCP_SANDBOX_ENABLED": "true",
                "MCP_SANDBOX_ALLOW_NETWORKING": "true",
                "MCP_SANDBOX_WORKSPACE_WRITABLE": "true",
            },
            "connected",
            "written",
            "bwrap (network, workspace {ws} rw)",
        ),
    ],
)
async def test_what_a_server_may_do_inside_and_outside_the_sandbox(
    tmp_path: Path, variables: dict[str, str], network: str, workspace_write: str, isolation: str
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "README.md").write_text("the workspace")
    secret = tmp_path / "secret.txt"  # outside the workspace, the system and the server's files
    secret.write_text("s3cret")
    server = misbehaving(env={"FROM_MANIFEST": "yes"})
    listen, port = await listener()
    async with (
        listen,
        running(
            tmp_path,
            {"probe": server},
            WORKSPACE_ROOT=str(workspace),
            LYNKR_TEST_SECRET="k",
            **variables,
        ) as box,
    ):
        handle = box.supervisor.handles["probe"]
        assert handle.state == "ready", handle.last_error
        assert handle.isolation_detail == isolation.format(ws=workspace)
        connected = await call(box, "mcp_probe_connect", host="127.0.0.1", port=port)
        assert connected.text.startswith(network), connected.text
        assert (
            await call(box, "mcp_probe_read_file", path=str(workspace / "README.md"))
        ).text == "the workspace"
        wrote = await call(box, "mcp_probe_write_file", path=str(workspace / "new.txt"), text="x")
        assert wrote.text == workspace_write
        assert (workspace / "new.txt").exists() == (workspace_write == "written")
        read_secret = await call(box, "mcp_probe_read_file", path=str(secret))
        sandboxed = variables["MCP_SANDBOX_ENABLED"] == "true"
        assert read_secret.text == ("error: No such file or directory" if sandboxed else "s3cret")
        if sandboxed:  # (outside, root could write there: not tried)
            assert (
                await call(box, "mcp_probe_write_file", path="/usr/lynkr-test", text="x")
            ).text == "error: Read-only file system"
        assert (await call(box, "mcp_probe_env", name="FROM_MANIFEST")).text == "yes"
        assert (await call(box, "mcp_probe_env", name="LYNKR_TEST_SECRET")).text == "(unset)"


@needs_bwrap
async def test_a_server_can_opt_out_of_the_sandbox_in_its_manifest(tmp_path: Path) -> None:
    servers = {"inside": misbehaving(), "outside": {**misbehaving(), "sandbox": False}}
    async with running(tmp_path, servers, MCP_SANDBOX_ENABLED="true") as box:
        handles = box.supervisor.handles
        assert handles["inside"].isolation_detail.startswith("bwrap (")
        assert handles["outside"].isolation_detail == "none"


async def test_a_container_image_without_a_working_runtime_never_runs_unisolated(
    tmp_path: Path,
) -> None:
    """podman exists in CI only to build Lynkr's image (no nested containers), and docker here
    has no daemon: either way the server must fail to start, saying why, not run bare."""
    variables = {
        "MCP_SANDBOX_IMAGE": "lynkr-test-no-such-image:0",
        "MCP_SANDBOX_RUNTIME": os.environ.get("LYNKR_TEST_CONTAINER_RUNTIME", "docker"),
    }
    async with running(tmp_path, {"boxed": misbehaving()}, **variables) as box:
        handle = box.supervisor.handles["boxed"]
        assert handle.state == "restarting" and handle.tools == ()
        assert handle.isolation_detail.startswith(
            f"container {variables['MCP_SANDBOX_RUNTIME']} lynkr-test-no-such-image:0 ("
        )
        assert handle.last_error
        outcome = await call(
            box, "workspace_mcp_call", server="boxed", tool="echo", arguments={"text": "x"}
        )
        assert outcome.is_error and "not available" in outcome.text


@needs_bwrap
async def test_npm_server_everything_in_the_sandbox(tmp_path: Path) -> None:
    """A node server from node_modules: its tree is bound read-only, node comes from /usr."""
    servers = {"everything": {"command": everything_bin(), "args": ["stdio"]}}
    async with running(tmp_path, servers, MCP_SANDBOX_ENABLED="true") as box:
        handle = box.supervisor.handles["everything"]
        assert handle.state == "ready", handle.last_error
        assert handle.isolation_detail.startswith("bwrap (no network")
        assert (await call(box, "mcp_everything_echo", message="boxed")).text == "Echo: boxed"
