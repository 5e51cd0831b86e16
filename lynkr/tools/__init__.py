"""Lynkr's own tools: the ``ToolBox`` port (``port``), and the boxes that implement it
(memory, MCP servers, workspace, web), run by the server-side tool loop."""
