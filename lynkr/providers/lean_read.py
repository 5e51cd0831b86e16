"""One socket read for the lean transport, with fewer trips through trio's scheduler.

trio's ``SocketStream.receive_some`` yields to the scheduler on every read: a read that finds
data waiting ends with a cancel-shielded checkpoint, one that finds none waits for the socket.
``Reader.receive`` reads a plain TCP connection's socket itself: ``recv`` at once; only when
that finds nothing (EAGAIN) does it wait for the socket to be readable and read again.

Assumes: the socket is trio's (non-blocking), and one task reads it at a time.
Guarantees: every read checks for cancellation first (as trio's does) and waiting is a
cancellable checkpoint; ``read_s`` bounds each wait (None: unbounded); a connection whose data
is always waiting still yields to the scheduler after at most ``YIELD_EVERY`` reads, and after
any read that brought ``READ_SIZE`` bytes since the last yield, so a busy upstream cannot
starve the other tasks; a socket error is raised as trio's stream errors with
trio's own messages. TLS connections are read by ``SSLStream.receive_some`` as before.
Never: reads more than ``READ_SIZE`` bytes at once, or hides a read's bytes behind a timeout.
"""

from __future__ import annotations

import errno
import math
import socket

import trio

READ_SIZE = 65536
# Reads that find data waiting yield to the scheduler once they have brought READ_SIZE bytes
# (what one read of trio's brings between two of its yields), each counted as at least
# READ_SIZE // YIELD_EVERY: at most YIELD_EVERY small reads, or one full one, between yields.
YIELD_EVERY = 4

_CLOSED_ERRNOS = frozenset({errno.EBADF, errno.ENOTSOCK})


def raw_socket(stream: trio.abc.Stream) -> socket.socket | None:
    """The stdlib socket under a plain ``trio.SocketStream`` (None: TLS, or not a socket)."""
    if not isinstance(stream, trio.SocketStream):
        return None
    sock = getattr(stream.socket, "_sock", None)  # trio's socket wraps a stdlib one
    return sock if isinstance(sock, socket.socket) else None


class Reader:
    """Reads one connection: ``receive(read_s)`` is the bytes of one read, b"" at the
    connection's end, None when nothing came within ``read_s``."""

    __slots__ = ("_budget", "_fd", "_sock", "_stream")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self._sock = raw_socket(stream)
        self._fd = self._sock.fileno() if self._sock is not None else -1
        self._budget = READ_SIZE  # bytes read at once that may still come before a yield

    async def receive(self, read_s: float | None) -> bytes | None:
        sock = self._sock
        if sock is None:
            return await self._receive_stream(read_s)
        await trio.lowlevel.checkpoint_if_cancelled()
        try:
            data = sock.recv(READ_SIZE)
        except BlockingIOError:  # waiting yields
            self._budget = READ_SIZE
            return await self._wait_and_receive(sock, read_s)
        except OSError as exc:
            raise _stream_error(exc) from exc
        self._budget -= max(len(data), READ_SIZE // YIELD_EVERY)
        if self._budget <= 0:
            self._budget = READ_SIZE
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def _wait_and_receive(self, sock: socket.socket, read_s: float | None
                                ) -> bytes | None:
        deadline = math.inf if read_s is None else trio.current_time() + read_s
        with trio.move_on_at(deadline):
            while True:
                await trio.lowlevel.wait_readable(self._fd)
                try:
                    return sock.recv(READ_SIZE)
                except BlockingIOError:  # woken, yet nothing to read: wait again
                    continue
                except OSError as exc:
                    raise _stream_error(exc) from exc
        return None

    async def _receive_stream(self, read_s: float | None) -> bytes | None:
        if read_s is None:
            data = await self._stream.receive_some(READ_SIZE)
            return data if isinstance(data, bytes) else bytes(data)
        with trio.move_on_after(read_s):
            data = await self._stream.receive_some(READ_SIZE)
            return data if isinstance(data, bytes) else bytes(data)
        return None


def _stream_error(exc: OSError) -> trio.BrokenResourceError | trio.ClosedResourceError:
    """The error trio's ``SocketStream`` raises for ``exc``, with its message."""
    if exc.errno in _CLOSED_ERRNOS:
        return trio.ClosedResourceError("this socket was already closed")
    return trio.BrokenResourceError(f"socket connection broken: {exc}")
