"""lynkr.mcp.box without processes: the offered set (names, order, kept while a server
restarts), routing, and workspace_mcp_call's arguments, the original's included."""

from __future__ import annotations

from typing import Any

import pytest

from lynkr.config.mcp import McpSettings
from lynkr.mcp.box import McpBox, Supervisor
from lynkr.mcp.manifest import Manifests, ServerSpec
from lynkr.mcp.supervisor import RemoteTool
from lynkr.tools.port import ToolContext

CONTEXT = ToolContext("r", None, "u", "", 0.0)
SCHEMA = {"type": "object", "properties": {"tz": {"type": "string"}}}


def box() -> McpBox:
    specs = tuple(ServerSpec(name, "stdio", "m.json", command="x") for name in ("time", "a-b"))
    supervisor = Supervisor(Manifests(specs), McpSettings(), {})
    handles = supervisor.handles
    handles["time"].tools = (
        RemoteTool("now", "The time.", SCHEMA),
        RemoteTool("zones", "", {"properties": {}}),
    )
    handles["a-b"].tools = (RemoteTool("do.it", "Does it.", SCHEMA),)
    for handle in handles.values():
        handle.tools_version = 1
        handle.state = "restarting"
        handle.last_error = "it crashed"
    return McpBox(supervisor)


def test_the_offered_set_is_sorted_namespaced_and_ends_with_the_generic_tool() -> None:
    tools = box().tools()
    assert [t.name for t in tools] == [
        "mcp_a_b_do_it",
        "mcp_time_now",
        "mcp_time_zones",
        "workspace_mcp_call",
    ]
    assert tools[1].description == "[MCP server time] The time."
    assert tools[2].input_schema == {"properties": {}, "type": "object"}
    assert tools[3].input_schema["properties"]["server"]["enum"] == ["a-b", "time"]


def test_no_server_no_tools() -> None:
    assert McpBox(Supervisor(Manifests(), McpSettings(), {})).tools() == ()


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("mcp_time_now", {}, "MCP server 'time' is not available (restarting): it crashed"),
        ("mcp_time_nope", {}, "unknown MCP tool 'mcp_time_nope'"),
        (
            "workspace_mcp_call",
            {"server": "time", "tool": "now"},
            "MCP server 'time' is not available (restarting): it crashed",
        ),
        (
            "workspace_mcp_call",
            {
                "server_id": "a-b",
                "method": "tools/call",
                "params": {"name": "do.it", "arguments": {}},
            },
            "MCP server 'a-b' is not available (restarting): it crashed",
        ),
        (
            "workspace_mcp_call",
            {"server": "mars", "tool": "x"},
            "no MCP server 'mars'; servers: a-b, time",
        ),
        (
            "workspace_mcp_call",
            {"server": "time"},
            'workspace_mcp_call needs "tool": a tool\'s name on the server',
        ),
        (
            "workspace_mcp_call",
            {"server": "time", "tool": "now", "arguments": [1]},
            '"arguments" must be an object',
        ),
        (
            "workspace_mcp_call",
            {"server": "time", "tool": "tools/list"},
            "MCP server 'time' is not available (restarting): it crashed",
        ),
    ],
)
async def test_every_call_ends_in_an_outcome(
    name: str, arguments: dict[str, Any], expected: str
) -> None:
    outcome = await box().run(name, arguments, CONTEXT)
    assert (outcome.text, outcome.is_error) == (expected, True)


async def test_a_ready_servers_tool_list() -> None:
    mcp = box()
    mcp.supervisor.handles["time"].state = "ready"
    outcome = await mcp.run("workspace_mcp_call", {"server": "time", "tool": "tools/list"}, CONTEXT)
    assert (outcome.text, outcome.is_error) == ("now: The time.\nzones", False)
