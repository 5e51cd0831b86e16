"""Hypercorn's trio connection, made cheaper: direct writes, and one keep-alive watcher.

Measured on a bare hypercorn app (issue 17, ``benchmarks``), two things cost more than the work
they guard, on every request or every body part:

* Writes. Hypercorn writes every piece of a response (the head, each body part, the end)
  through a per-connection ``trio.Lock`` and ``SocketStream.send_all``: two trips through trio's
  scheduler per write, each with its own ``epoll_wait``; about 50 µs of CPU per body part, and a
  streamed answer has hundreds. ``LeanConnection`` first tries the write itself, without
  yielding: on a plain TCP socket, when no other write of the connection is in progress (the
  lock is free) and the kernel takes all of the bytes, that is the whole write. Anything else
  (TLS, a write already waiting, a full socket buffer, an error) goes hypercorn's way with what
  is left, so order, back-pressure, shielding and error handling are hypercorn's own.
* The keep-alive timer. Between two requests hypercorn closes a connection idle for
  ``keep_alive_timeout`` (or at once when the server is shutting down); it does that by starting
  a new task per request (``nursery.start`` behind a lock) and cancelling it when the next
  request comes: about 0.14 ms per request. ``IdleWatch`` is one task per connection whose
  deadline moves instead, with the same outcome: an idle connection is closed at its deadline or
  when the server terminates, a busy one never.

Guarantees: the bytes reach the socket in the order hypercorn hands them over (a partial write
is finished by hypercorn's path before any later write: nothing yields in between, so no other
task can take the lock first); the keep-alive watcher ends when the connection's reading ends.
Never: blocks the event loop (the socket is non-blocking), changes what is written, or closes a
connection with a request in flight.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from typing import Any

import hypercorn.trio.run as _run
import trio
from hypercorn.events import RawData
from hypercorn.trio.tcp_server import TCPServer

log = logging.getLogger("lynkr.server")


class IdleWatch:
    """Hypercorn's idle task (``restart``: the connection is idle from now; ``stop``: it is
    busy), as one watcher task per connection instead of one task per request."""

    def __init__(self, server: TCPServer) -> None:
        self._server = server
        self._idle = False
        self._deadline = math.inf
        self._waiting: trio.CancelScope | None = None  # the watcher's wait while idle
        self._woken: trio.Event | None = None  # the watcher's wait while busy
        self._outer = trio.CancelScope()
        self._started = False

    async def restart(self, task_group: Any, action: Callable[[], Any]) -> None:
        self._idle = True
        self._deadline = trio.current_time() + self._server.config.keep_alive_timeout
        if not self._started:
            self._started = True
            task_group.spawn(self._watch)
        elif self._waiting is not None:
            self._waiting.deadline = self._deadline
        elif self._woken is not None:
            self._woken.set()

    async def stop(self) -> None:
        self._idle = False
        if self._waiting is not None:
            self._waiting.deadline = math.inf

    def close(self) -> None:
        """The connection's reading ended: the watcher ends too."""
        self._outer.cancel()

    async def _watch(self) -> None:
        terminated = self._server.context.terminated
        with self._outer:
            while True:
                if not self._idle:
                    self._woken = trio.Event()
                    await self._woken.wait()
                    self._woken = None
                    continue
                with trio.CancelScope(deadline=self._deadline) as waiting:
                    self._waiting = waiting
                    await terminated.wait()
                self._waiting = None
                if self._idle and (terminated.is_set() or trio.current_time() >= self._deadline):
                    break
        if self._outer.cancelled_caught:
            return
        with trio.CancelScope(shield=True):
            await self._server._initiate_server_close()


class LeanConnection(TCPServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle_watch = IdleWatch(self)
        self.idle_task = self._idle_watch  # type: ignore[assignment]  # restart/stop alike

    async def protocol_send(self, event: Any) -> None:
        if type(event) is RawData and type(self.stream) is trio.SocketStream \
                and not self.send_lock.locked():
            data = event.data
            try:
                sent = os.write(self.stream.socket.fileno(), data)
            except BlockingIOError:  # the socket's buffer is full: wait as hypercorn does
                sent = 0
            except OSError:  # closed or reset: hypercorn's path sees it and says so
                sent = 0
            if sent == len(data):
                return
            if sent:
                event = RawData(data=data[sent:])
        await super().protocol_send(event)

    async def _read_data(self) -> None:
        try:
            await super()._read_data()
        finally:
            self._idle_watch.close()


def install() -> bool:
    """Serve hypercorn's trio connections with ``LeanConnection``; False when this hypercorn
    is not shaped as expected (then it is left as it is)."""
    current = getattr(_run, "TCPServer", None)
    used = ("protocol_send", "_read_data", "_initiate_server_close", "_idle_timeout")
    if not (isinstance(current, type) and issubclass(current, TCPServer)
            and all(hasattr(TCPServer, name) for name in used)):
        log.warning("hypercorn's trio server is not the expected shape; its own is used")
        return False
    if not issubclass(current, LeanConnection):
        setattr(_run, "TCPServer", LeanConnection)  # noqa: B010  (module attribute swap)
    return True
