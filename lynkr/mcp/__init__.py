"""MCP servers run by Lynkr: manifests (the original's and ``.mcp.json``), a supervisor that
keeps each server running (stdio, optionally in bubblewrap or a container, or streamable
HTTP), and the ``mcp`` ToolBox that offers their tools as ``mcp_<server>_<tool>``."""
