"""The ``ToolBox`` port: a family of tools Lynkr runs itself, in its server-side tool loop.

Each box (memory, MCP servers, workspace, web) offers canonical ``Tool`` definitions and runs
calls to them. The loop decides which boxes a request gets, offers their tools beside the
client's (never one that duplicates a client tool), runs the calls the model makes to them and
calls the model again. A box never raises for a failed call: it answers a ``ToolOutcome`` with
``is_error`` that says what went wrong, so the model can read it and go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from lynkr.model.request import Tool


@attrs.frozen
class ToolContext:
    """Who a call runs for, and when: handed to ``ToolBox.run`` by the loop."""

    request_id: str
    session_id: str | None
    user: str  # the memory scope's user (the inbound key's identity, metadata.user_id, default)
    workspace: str  # the memory scope's workspace ("" when unknown)
    now: float  # seconds, wall clock (time.time()) as the loop read it


@attrs.frozen
class ToolOutcome:
    """What a call returned, as text the model reads; ``is_error`` marks a failed call."""

    text: str
    is_error: bool = False


class ToolBox(Protocol):
    """A family of Lynkr's own tools.

    ``tools`` is the box's current set, in a stable order (the loop keeps what it offered per
    session, so the prompt cache is kept when a set changes); ``run`` executes one call and
    bounds its own time and output.
    """

    @property
    def name(self) -> str: ...  # "memory", "mcp", "workspace", "web"

    def tools(self) -> tuple[Tool, ...]: ...

    async def run(self, name: str, arguments: Mapping[str, Any],
                  context: ToolContext) -> ToolOutcome: ...
