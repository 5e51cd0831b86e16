"""Opening the ``mcp`` box at start-up: the manifests read, their problems logged, the servers
started in the root nursery.

Assumes: the environment (``.env`` overlaid by the process), a nursery as long-lived as the
server.
Guarantees: every manifest problem is logged with its file and location, none stops start-up;
the MCP SDK (about 1.5 s of imports) is loaded only when a manifest declares a server, so a
Lynkr without MCP servers starts (and each ``--workers`` process starts) without it.
Never: waits for a server: they start in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import trio

from lynkr.config.mcp import McpSettings, mcp_settings
from lynkr.config.settings import Env
from lynkr.mcp.manifest import Manifests, read_manifests

if TYPE_CHECKING:
    from lynkr.mcp.box import McpBox

log = logging.getLogger("lynkr.mcp")


def load_manifests(settings: McpSettings, environ: Mapping[str, str]) -> Manifests:
    defaults = () if environ.get("MCP_MANIFEST_DIRS") is not None else settings.manifest_dirs
    return read_manifests(settings.manifest_paths, environ, default_dirs=defaults)


async def open_mcp_box(environ: Mapping[str, str], nursery: trio.Nursery) -> McpBox | None:
    """The box, its servers started in ``nursery``; ``None`` when no server is configured."""
    settings = mcp_settings(Env(environ))
    manifests = load_manifests(settings, environ)
    for problem in manifests.problems:
        log.warning("MCP manifest: %s", problem)
    if not manifests.servers:
        return None
    from lynkr.mcp.box import McpBox, Supervisor  # the SDK, only now that a server needs it

    supervisor = Supervisor(manifests, settings, environ)
    supervisor.start(nursery)
    log.info("MCP: %d servers from %s", len(manifests.servers), ", ".join(manifests.files))
    return McpBox(supervisor)
