"""The ``mcp`` ToolBox: every configured MCP server's tools as ``mcp_<server>_<tool>``, and
``workspace_mcp_call`` to call any tool of any server by its own name.

Assumes: a ``Supervisor`` whose handles run in the root nursery (``start.open_mcp_box``).
Guarantees: ``tools()`` is sorted by name, with ``workspace_mcp_call`` last, and keeps a
server's tools while it restarts (a call then says the server is not available), so the set a
session was offered does not shift with a crash; names follow names.py; every ``run`` ends in a
``ToolOutcome`` within ``MCP_CALL_TIMEOUT_MS``.
Never: raises from ``run``, or offers ``workspace_mcp_call`` when no server is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import trio

from lynkr.config.mcp import McpSettings
from lynkr.mcp.manifest import Manifests
from lynkr.mcp.names import tool_names
from lynkr.mcp.supervisor import ServerHandle
from lynkr.model.request import Tool
from lynkr.tools.port import ToolContext, ToolOutcome

log = logging.getLogger("lynkr.mcp")
CALL = "workspace_mcp_call"


class Supervisor:
    """The handles of every configured server, started together."""

    def __init__(
        self, manifests: Manifests, settings: McpSettings, environ: Mapping[str, str]
    ) -> None:
        self.manifests = manifests
        self.settings = settings
        self.handles = {s.name: ServerHandle(s, settings, environ) for s in manifests.servers}

    def start(self, nursery: trio.Nursery) -> None:
        for handle in self.handles.values():
            nursery.start_soon(handle.run, name=f"mcp server {handle.spec.name}")

    async def wait_settled(self) -> None:
        async with trio.open_nursery() as nursery:
            for handle in self.handles.values():
                nursery.start_soon(handle.wait_settled)


def _call_tool(servers: list[str]) -> Tool:
    return Tool(
        CALL,
        "Call a tool of one of the MCP servers Lynkr runs, by the server's name and the "
        "tool's own name (as that server lists it). Servers: " + ", ".join(servers) + ". "
        'Give tool "tools/list" to see a server\'s tools.',
        {
            "type": "object",
            "properties": {
                "server": {"type": "string", "enum": servers, "description": "the server's name"},
                "tool": {"type": "string", "description": "the tool's name on that server"},
                "arguments": {"type": "object", "description": "the tool's arguments"},
            },
            "required": ["server", "tool"],
        },
    )


def _schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """MCP says an input schema is an object schema; providers insist on it."""
    return {**schema, "type": "object"}


class McpBox:
    """The ToolBox named ``mcp`` (lynkr/tools/port.py)."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self._version: tuple[int, ...] | None = None
        self._tools: tuple[Tool, ...] = ()
        self._routes: dict[str, tuple[str, str]] = {}

    @property
    def name(self) -> str:
        return "mcp"

    def _refresh(self) -> None:
        handles = self.supervisor.handles
        version = tuple(h.tools_version for h in handles.values())
        if version == self._version:
            return
        remote = {(h.spec.name, t.name): t for h in handles.values() for t in h.tools}
        names = tool_names(remote)
        tools = []
        for pair, name in names.items():
            described = remote[pair].description
            tools.append(
                Tool(
                    name,
                    f"[MCP server {pair[0]}] {described}".strip(),
                    _schema(remote[pair].input_schema),
                )
            )
        tools.sort(key=lambda t: t.name)
        if handles:
            tools.append(_call_tool(sorted(handles)))
        self._tools, self._version = tuple(tools), version
        self._routes = {name: pair for pair, name in names.items()}

    def tools(self) -> tuple[Tool, ...]:
        self._refresh()
        return self._tools

    def offered(self, server: str) -> list[str]:
        """The names this box offers for one server's tools, sorted."""
        self._refresh()
        return sorted(name for name, pair in self._routes.items() if pair[0] == server)

    async def run(
        self, name: str, arguments: Mapping[str, Any], context: ToolContext
    ) -> ToolOutcome:
        self._refresh()
        try:
            if name == CALL:
                return await self._generic(arguments)
            route = self._routes.get(name)
            if route is None:
                return ToolOutcome(f"unknown MCP tool {name!r}", is_error=True)
            return await self.supervisor.handles[route[0]].call(route[1], arguments)
        except Exception as exc:  # the box's guard: a call never fails the request
            log.exception("MCP tool %s failed", name, extra={"request_id": context.request_id})
            return ToolOutcome(
                f"MCP tool {name!r} failed inside Lynkr: {type(exc).__name__}: {exc}", is_error=True
            )

    async def _generic(self, arguments: Mapping[str, Any]) -> ToolOutcome:
        """``workspace_mcp_call``: ``server``, ``tool``, ``arguments``; the original's
        ``server_id``/``method``/``params`` are read too."""
        server = arguments.get("server", arguments.get("server_id", arguments.get("serverId")))
        tool = arguments.get("tool", arguments.get("method"))
        args = arguments.get("arguments", arguments.get("params", {}))
        handle = self.supervisor.handles.get(server) if isinstance(server, str) else None
        if handle is None:
            return ToolOutcome(
                f"no MCP server {server!r}; servers: {', '.join(sorted(self.supervisor.handles))}",
                is_error=True,
            )
        if tool == "tools/call" and isinstance(args, Mapping):  # the original's raw JSON-RPC
            tool, args = args.get("name"), args.get("arguments", {})
        if tool == "tools/list":
            return await handle.list_tools_text()
        if not isinstance(tool, str) or not tool:
            return ToolOutcome(
                'workspace_mcp_call needs "tool": a tool\'s name on the server', is_error=True
            )
        if not isinstance(args, Mapping):
            return ToolOutcome('"arguments" must be an object', is_error=True)
        return await handle.call(tool, args)
