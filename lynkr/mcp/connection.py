"""One live connection to one MCP server, through the official ``mcp`` SDK (1.x, on anyio: it
runs under trio as it is).

Assumes: a ``ServerSpec`` (and, for stdio, the ``Launch`` sandbox.py chose); the caller bounds
the time of ``initialize``/``list_tools`` and owns the task the context runs in.
Guarantees: ``open_connection`` yields a ``Connection`` whose session is not yet initialized,
whose ``closed`` event is set when the server's output ends (a stdio server exited, an HTTP
stream failed), and whose ``stderr_tail()`` shows the last lines a stdio server wrote to
stderr; leaving the context stops the server (stdin closed, then SIGTERM and SIGKILL, as the
SDK does) or ends the HTTP session.
Never: passes Lynkr's own environment (provider keys) to a server: a stdio server gets the
SDK's safe variables (PATH, HOME, USER, ...) and its manifest's ``env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib import metadata
from typing import IO, Any, TextIO, cast

import anyio
import attrs
import httpx
import trio
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from lynkr.mcp.manifest import ServerSpec
from lynkr.mcp.sandbox import Launch

try:  # (the package's own __init__ is out of this layer's reach)
    _VERSION = metadata.version("lynkr")
except metadata.PackageNotFoundError:
    _VERSION = "0"
CLIENT = types.Implementation(name="lynkr", version=_VERSION)
STDERR_TAIL = 2000  # characters of a server's stderr kept for its error messages


@attrs.define
class Connection:
    session: ClientSession
    closed: trio.Event
    tools_changed: trio.Event
    stderr: IO[str] | None = None

    def stderr_tail(self) -> str:
        return tail_of(self.stderr)


def tail_of(file: IO[str] | None) -> str:
    """The last lines a server wrote to stderr, on one line."""
    if file is None:
        return ""
    try:
        file.flush()
        size = file.seek(0, 2)
        file.seek(max(0, size - STDERR_TAIL))
        lines = [line.strip() for line in file.read().splitlines() if line.strip()]
        return " | ".join(lines)[-STDERR_TAIL:]
    except (OSError, ValueError):
        return ""


async def _forward(source: Any, sink: Any, closed: trio.Event) -> None:
    """Moves the transport's messages to the session; sets ``closed`` when they end."""
    try:
        async with sink:
            async for message in source:
                await sink.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
    finally:
        closed.set()


async def _transport(
    spec: ServerSpec, launch: Launch | None, stack: AsyncExitStack, stderr: IO[str] | None
) -> tuple[Any, Any]:
    if spec.transport == "stdio":
        assert launch is not None and stderr is not None
        params = StdioServerParameters(
            command=launch.command,
            args=list(launch.args),
            env=dict(launch.env) if launch.env is not None else None,
            cwd=launch.cwd,
        )
        read, write = await stack.enter_async_context(
            stdio_client(params, errlog=cast(TextIO, stderr))
        )
        return read, write
    assert spec.url is not None
    if spec.transport == "sse":
        read, write = await stack.enter_async_context(
            sse_client(spec.url, headers=dict(spec.headers))
        )
        return read, write
    client = await stack.enter_async_context(
        httpx.AsyncClient(headers=dict(spec.headers), timeout=httpx.Timeout(30.0, read=300.0))
    )
    read, write, _ = await stack.enter_async_context(
        streamable_http_client(spec.url, http_client=client)
    )
    return read, write


@asynccontextmanager
async def open_connection(
    spec: ServerSpec, launch: Launch | None, stderr: IO[str] | None
) -> AsyncIterator[Connection]:
    """``stderr``: the file a stdio server's stderr goes to (the caller's: it outlives the
    connection, so the reason a server died can still be read)."""
    connection: Connection | None = None

    async def on_message(message: Any) -> None:
        if (
            connection is not None
            and isinstance(message, types.ServerNotification)
            and isinstance(message.root, types.ToolListChangedNotification)
        ):
            connection.tools_changed.set()

    async with AsyncExitStack() as stack:
        read, write = await _transport(spec, launch, stack, stderr)
        stack.push_async_callback(read.aclose)  # ours to close: the session reads a copy
        sink, source = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        nursery = await stack.enter_async_context(trio.open_nursery())
        stack.callback(nursery.cancel_scope.cancel)  # runs before the nursery is left
        closed = trio.Event()
        nursery.start_soon(_forward, read, sink, closed)
        session = await stack.enter_async_context(
            ClientSession(source, write, client_info=CLIENT, message_handler=on_message)
        )
        connection = Connection(session, closed, trio.Event(), stderr)
        yield connection
