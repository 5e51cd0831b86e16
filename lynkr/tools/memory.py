"""The memory tool box: ``memory_search``, ``memory_add``, ``memory_forget``, ``memory_stats``
for the server-side tool loop, on the store the server's memory service owns.

Assumes: the loop's ``ToolContext`` names the memory scope's user and workspace (as
``lynkr.stages.memory_scope`` derives them) and the wall-clock time.
Guarantees: calls run against that scope only (one user never reaches another's memories);
bad arguments, a refused secret or an unknown id come back as an ``is_error`` outcome the model
can read (``lynkr.memory.tools``), never as an exception.
Never: offers its tools when memory is off (the box is not built), or stores a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr.memory.port import MemoryStore
from lynkr.memory.tools import MEMORY_TOOLS, run_tool
from lynkr.model.memory import Scope
from lynkr.model.request import Tool
from lynkr.tools.port import ToolContext, ToolOutcome


class MemoryToolBox:
    """The ``ToolBox`` of long-term memory."""

    name = "memory"

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def tools(self) -> tuple[Tool, ...]:
        return MEMORY_TOOLS

    async def run(
        self, name: str, arguments: Mapping[str, Any], context: ToolContext
    ) -> ToolOutcome:
        outcome = await run_tool(
            name,
            arguments,
            self.store,
            Scope(context.user, context.workspace),
            context.now,
            session_id=context.session_id,
            request_id=context.request_id,
        )
        return ToolOutcome(outcome.text, outcome.is_error)
