"""The one place Lynkr's tool boxes are built: ``open_toolboxes``, awaited once at server
start-up inside a nursery that lives as long as the server (the app's lifespan; each worker of
``--workers N`` has its own), so a box may run background tasks there (MCP servers) and they
stop with the server.

Assumes: the settings (each box reads its own variables from ``settings.environ``).
Guarantees: only boxes that are configured and enabled are returned, in a fixed order (the
offered set's order, after the client's tools); ``TOOL_EXECUTION_MODE=client|passthrough``
opens none (nothing is offered, nothing started). A box must not block start-up: it starts
slow things (processes, connections) with ``nursery.start_soon`` and answers calls made before
they are ready with an ``is_error`` outcome.
Never: offers a tool itself (the tool loop decides, per session, in ``lynkr.tools.offer``).

To add a box: build it below when its settings say it is configured, and append it.
"""

from __future__ import annotations

import trio

from lynkr.config.settings import Env, Settings
from lynkr.config.tools import tool_loop_settings
from lynkr.tools.port import ToolBox


async def open_toolboxes(settings: Settings, nursery: trio.Nursery) -> tuple[ToolBox, ...]:
    """The configured boxes, started in ``nursery``."""
    if not tool_loop_settings(Env(settings.environ)).offers_tools:
        return ()
    boxes: list[ToolBox] = []
    # each box helper adds its own here, e.g.:
    #   memory = await open_memory_box(settings, nursery)
    #   if memory is not None: boxes.append(memory)
    return tuple(boxes)
