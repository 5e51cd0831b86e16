"""The one place Lynkr's tool boxes are built: ``open_toolboxes``, awaited once at server
start-up inside a nursery that lives as long as the server (the app's lifespan; each worker of
``--workers N`` has its own), so a box may run background tasks there (MCP servers) and they
stop with the server.

Assumes: the settings (each box reads its own variables from ``settings.environ``).
Guarantees: only boxes that are configured and enabled are returned, in a fixed order (the
offered set's order, after the client's tools); ``TOOL_EXECUTION_MODE=client|passthrough``
opens none (nothing is offered, nothing started). A box with a ``close()`` is closed when the
server stops. A box must not block start-up: it starts slow things (processes, connections)
with ``nursery.start_soon`` and answers calls made before they are ready with an ``is_error``
outcome.
Never: offers a tool itself (the tool loop decides, per session, in ``lynkr.tools.offer``).

To add a box: build it below when its settings say it is configured, and append it.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from lynkr.config.settings import Env, Settings
from lynkr.config.tools import tool_loop_settings
from lynkr.config.workspace import workspace_settings
from lynkr.mcp.start import open_mcp_box
from lynkr.tools.port import ToolBox
from lynkr.tools.web import web_box
from lynkr.tools.workspace.box import workspace_box


async def open_toolboxes(settings: Settings, nursery: trio.Nursery) -> tuple[ToolBox, ...]:
    """The configured boxes, started in ``nursery``."""
    env = Env(settings.environ)
    if not tool_loop_settings(env).offers_tools:
        return ()
    boxes: list[ToolBox] = []
    workspace = workspace_box(workspace_settings(env))  # WORKSPACE_ROOT
    if workspace is not None:
        boxes.append(workspace)
    web = web_box(settings)  # WEB_SEARCH_ENDPOINT / WEB_SEARCH_ALLOWED_HOSTS
    if web is not None:
        boxes.append(web)
    mcp = await open_mcp_box(settings.environ, nursery)  # MCP_MANIFEST_DIRS, MCP_SERVER_MANIFEST
    if mcp is not None:  # its servers run in ``nursery`` and stop with it
        boxes.append(mcp)
    nursery.start_soon(_close_at_the_end, boxes)
    return tuple(boxes)


async def _close_at_the_end(boxes: Sequence[ToolBox]) -> None:
    """Waits as long as the server runs; closes the boxes that hold resources when it stops."""
    try:
        await trio.sleep_forever()
    finally:
        for box in boxes:
            close = getattr(box, "close", None)
            if callable(close):
                close()
