"""A real MCP server (the mcp SDK's FastMCP) with tools that misbehave on purpose.

    python mcp_test_server.py stdio [PIDFILE]
    python mcp_test_server.py http PORT [PIDFILE]    (streamable HTTP at /mcp)

``crash`` exits the process in the middle of the call; ``hang`` blocks the whole server (a
synchronous sleep on its event loop, so it answers nothing, pings included); ``read_file``,
``write_file``, ``connect`` and ``env`` report what the sandbox lets the server do.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from mcp.server.fastmcp import FastMCP

mode = sys.argv[1]
port = int(sys.argv[2]) if mode == "http" else 0
pidfile = (
    sys.argv[3 if mode == "http" else 2] if len(sys.argv) > (3 if mode == "http" else 2) else None
)
if pidfile:
    with open(pidfile, "a") as f:
        f.write(f"{os.getpid()}\n")

server = FastMCP("lynkr-test", host="127.0.0.1", port=port, log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Returns the text."""
    return f"echo: {text}"


@server.tool()
def crash() -> str:
    """Exits the server in the middle of the call."""
    print("crashing on purpose", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def hang() -> str:
    """Never answers: blocks the server's event loop."""
    time.sleep(3600)
    return "unreachable"


@server.tool()
def read_file(path: str) -> str:
    """The file's text, or the error reading it."""
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        return f"error: {exc.strerror}"


@server.tool()
def write_file(path: str, text: str) -> str:
    """Writes the file; says whether it could."""
    try:
        with open(path, "w") as f:
            f.write(text)
        return "written"
    except OSError as exc:
        return f"error: {exc.strerror}"


@server.tool()
def connect(host: str, port: int) -> str:
    """Opens a TCP connection; says whether it could."""
    try:
        with socket.create_connection((host, port), timeout=3):
            return "connected"
    except OSError as exc:
        return f"error: {exc.strerror or exc}"


@server.tool()
def env(name: str) -> str:
    """One environment variable's value, or "(unset)"."""
    return os.environ.get(name, "(unset)")


if __name__ == "__main__":
    server.run(transport="streamable-http" if mode == "http" else "stdio")
