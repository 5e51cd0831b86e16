"""Keeps each configured MCP server running: started at start-up in the root nursery, restarted
with backoff when it dies or stops answering, stopped with the nursery.

Assumes: one ``ServerHandle.run`` task per server, in a nursery that lives as long as the
server should (the root nursery; ``lynkr mcp list`` opens a short one).
Guarantees: a server's failure (a bad command, a crash, a hang, a broken sandbox) never leaves
its task: it becomes the handle's state (``restarting``, with the error and the server's last
stderr lines) and a new attempt after 1 s, 2 s, 4 s ... up to ``MCP_RESTART_MAX_DELAY_MS``
(back to 1 s after it had been ready that long); a ready server is pinged every
``MCP_PING_INTERVAL_MS`` and at once after a call timed out, and restarted when it does not
answer; ``call`` always returns a ``ToolOutcome`` within its timeout.
Never: restarts a server that is answering, or retries a tool call (a call may have effects).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import IO, Any, Literal

import anyio
import attrs
import trio
from mcp import types
from mcp.shared.exceptions import McpError

from lynkr.config.mcp import McpSettings
from lynkr.mcp.connection import Connection, open_connection, tail_of
from lynkr.mcp.manifest import ServerSpec
from lynkr.mcp.results import clip, render
from lynkr.mcp.sandbox import isolation_of, launch
from lynkr.tools.port import ToolOutcome

log = logging.getLogger("lynkr.mcp")
State = Literal["starting", "ready", "restarting"]
PING_TIMEOUT_S = 10.0
FIRST_DELAY_S = 1.0


@attrs.frozen
class RemoteTool:
    """A tool as its server lists it (its own name, not yet namespaced)."""

    name: str
    description: str
    input_schema: Mapping[str, Any]


class ServerDied(Exception):
    """The server stopped answering or its output ended: the reason, for its state."""


def describe(error: BaseException) -> str:
    """One line for an error, unwrapping the exception groups anyio and trio raise."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(e) for e in error.exceptions)
    if isinstance(error, FileNotFoundError):
        return f"command not found: {error.filename or error}"
    text = str(error) or type(error).__name__
    return text if isinstance(error, McpError | ServerDied) else f"{type(error).__name__}: {text}"


class ServerHandle:
    def __init__(
        self,
        spec: ServerSpec,
        settings: McpSettings,
        environ: Mapping[str, str],
        clock: Callable[[], float] = trio.current_time,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.environ = environ
        self.isolation = isolation_of(spec, settings.sandbox)
        self.state: State = "starting"
        self.tools: tuple[RemoteTool, ...] = ()  # the last list seen, kept while restarting
        self.last_error: str | None = None
        self.restarts = 0  # attempts after the first
        self.attempts = 0
        self.retry_at: float | None = None
        self.ready_since: float | None = None
        self.isolation_detail = self.isolation
        self._clock = clock
        self._connection: Connection | None = None
        self._changed = trio.Event()  # set (and replaced) on every state change
        self._check = trio.Event()  # set to ping now
        self.tools_version = 0  # grows whenever ``tools`` changes

    # -- state -----------------------------------------------------------------------------

    def _set(self, state: State, error: str | None = None) -> None:
        self.state = state
        if error is not None:
            self.last_error = error
        self._changed.set()
        self._changed = trio.Event()

    async def wait_settled(self) -> None:
        """Until the first attempt has ended: ready, or failed once."""
        while self.state == "starting":
            await self._changed.wait()

    # -- the supervising task --------------------------------------------------------------

    async def run(self) -> None:
        """Forever (until cancelled): start, serve, and restart the server when it dies."""
        delay = FIRST_DELAY_S
        while True:
            self.attempts += 1
            self.ready_since = None
            error = "the server closed its connection"
            with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
                try:
                    await self._serve_once(stderr)
                except* Exception as group:  # the one guard: a server's failure stays here
                    error = describe(group)
                tail = tail_of(stderr)
            self._connection = None
            if (
                self.ready_since is not None
                and self._clock() - self.ready_since >= self.settings.restart_max_delay_s
            ):
                delay = FIRST_DELAY_S  # it ran well for a while: a fresh crash, not a loop
            full = f"{error} (stderr: {tail})" if tail else error
            self.retry_at = self._clock() + delay
            self._set("restarting", full)
            log.warning(
                "MCP server %s stopped: %s; restarting in %g s",
                self.spec.name,
                full,
                delay,
                extra={"mcp_server": self.spec.name, "attempt": self.attempts},
            )
            await trio.sleep(delay)
            delay = min(delay * 2, self.settings.restart_max_delay_s)
            self.restarts += 1
            self.retry_at = None
            self._set("starting")

    async def _serve_once(self, stderr: IO[str]) -> None:
        plan = (
            launch(self.spec, self.settings.sandbox, self.environ)
            if self.spec.transport == "stdio"
            else None
        )
        self.isolation_detail = plan.isolation if plan is not None else "none (remote)"
        async with AsyncExitStack() as stack:
            connection = await stack.enter_async_context(open_connection(self.spec, plan, stderr))
            self._connection = connection
            with trio.move_on_after(self.settings.start_timeout_s) as starting:
                await _until_closed(
                    connection,
                    connection.session.initialize(),
                    "it exited (or its connection failed) before it was ready",
                )
                await self._list_tools(connection)
            if starting.cancelled_caught:
                raise ServerDied(
                    f"not ready within {self.settings.start_timeout_s:g} s (MCP_START_TIMEOUT_MS)"
                )
            self.last_error = None
            self.ready_since = self._clock()
            self._set("ready")
            log.info(
                "MCP server %s ready: %d tools (%s)",
                self.spec.name,
                len(self.tools),
                self.isolation_detail,
                extra={"mcp_server": self.spec.name},
            )
            await self._watch(connection)

    async def _list_tools(self, connection: Connection) -> None:
        found: list[RemoteTool] = []
        cursor: str | None = None
        while True:
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await _until_closed(connection, connection.session.list_tools(params=params))
            found += [RemoteTool(t.name, t.description or "", t.inputSchema) for t in page.tools]
            cursor = page.nextCursor
            if not cursor:
                break
        tools = tuple(found)
        if tools != self.tools:
            self.tools = tools
            self.tools_version += 1

    async def _watch(self, connection: Connection) -> None:
        """Returns (raises ``ServerDied``) when the server's output ends or a ping fails."""
        async with trio.open_nursery() as nursery:

            async def ended() -> None:
                await connection.closed.wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(ended)
            while not connection.closed.is_set():
                with trio.move_on_after(self.settings.ping_interval_s or float("inf")):
                    async with trio.open_nursery() as waits:
                        waits.start_soon(_set_then_cancel, self._check, waits)
                        waits.start_soon(_set_then_cancel, connection.tools_changed, waits)
                if connection.tools_changed.is_set():
                    connection.tools_changed = trio.Event()
                    with trio.move_on_after(self.settings.start_timeout_s) as listing:
                        await self._list_tools(connection)
                    if listing.cancelled_caught:
                        raise ServerDied("no answer to tools/list after a tools/list_changed")
                    continue
                self._check = trio.Event()
                patience = min(PING_TIMEOUT_S, self.settings.call_timeout_s)
                with trio.move_on_after(patience) as ping:
                    await connection.session.send_ping()
                if ping.cancelled_caught:
                    raise ServerDied(f"no answer to a ping within {patience:g} s (hung)")
        raise ServerDied("the server's output ended (it exited or the connection dropped)")

    # -- calls -------------------------------------------------------------------------------

    def _unavailable(self) -> ToolOutcome:
        when = (
            f"; next start in {max(0.0, self.retry_at - self._clock()):.0f} s"
            if self.retry_at is not None
            else ""
        )
        return ToolOutcome(
            f"MCP server {self.spec.name!r} is not available ({self.state}"
            f"{when}): {self.last_error or 'starting'}",
            is_error=True,
        )

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> ToolOutcome:
        """One ``tools/call``, bounded by ``MCP_CALL_TIMEOUT_MS`` (a start in progress
        included); every failure is an ``is_error`` outcome."""
        timeout = self.settings.call_timeout_s
        with trio.move_on_after(timeout) as scope:
            while self.state == "starting":
                await self._changed.wait()
            connection = self._connection
            if self.state != "ready" or connection is None:
                return self._unavailable()
            try:
                result = await _until_closed(
                    connection, connection.session.call_tool(tool, dict(arguments))
                )
            except trio.Cancelled:  # this timeout or the caller's: is the server still there?
                self._check.set()
                raise
            except (
                McpError,
                ServerDied,
                anyio.ClosedResourceError,
                anyio.BrokenResourceError,
                RuntimeError,
            ) as exc:
                self._check.set()
                tail = connection.stderr_tail()
                return ToolOutcome(
                    f"MCP server {self.spec.name!r} failed calling {tool!r}: "
                    f"{describe(exc)}" + (f" (stderr: {tail})" if tail else ""),
                    is_error=True,
                )
            return ToolOutcome(
                render(result, self.settings.max_output_chars), is_error=result.isError
            )
        assert scope.cancelled_caught
        if self.state != "ready":
            return self._unavailable()
        self._check.set()  # a server that stops answering is restarted by its watcher
        return ToolOutcome(
            f"MCP server {self.spec.name!r}: {tool!r} did not answer within "
            f"{timeout:g} s (MCP_CALL_TIMEOUT_MS)",
            is_error=True,
        )

    async def list_tools_text(self) -> ToolOutcome:
        if self.state != "ready":
            return self._unavailable()
        lines = [f"{t.name}: {t.description}".rstrip(": ") for t in self.tools]
        return ToolOutcome(clip("\n".join(lines) or "(no tools)", self.settings.max_output_chars))


async def _set_then_cancel(event: trio.Event, nursery: trio.Nursery) -> None:
    await event.wait()
    nursery.cancel_scope.cancel()


async def _until_closed(
    connection: Connection,
    awaitable: Any,
    why: str = "the server's output ended (it exited or the connection dropped)",
) -> Any:
    """``awaitable``'s result, or ``ServerDied`` as soon as the server's output ends (a call
    in flight then fails at once instead of waiting for its timeout)."""
    result: list[Any] = []
    failed: list[Exception] = []
    async with trio.open_nursery() as nursery:

        async def work() -> None:
            try:
                result.append(await awaitable)
            except Exception as exc:  # handed to the caller as it is, outside the nursery
                failed.append(exc)
            nursery.cancel_scope.cancel()

        async def watch() -> None:
            await connection.closed.wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(work)
        nursery.start_soon(watch)
    if failed:
        raise failed[0]
    if not result:
        raise ServerDied(why)
    return result[0]
