"""Hypercorn's trio connection with a direct write: a response's bytes go to the socket at once.

Hypercorn writes every piece of a response (the head, each body part, the end) through a
per-connection ``trio.Lock`` and ``SocketStream.send_all``: two trips through trio's scheduler
per write, each with its own ``epoll_wait``. Measured on a bare hypercorn app (``benchmarks``,
issue 17), that was about 50 µs of CPU per body part, several times the write itself, and a
streamed answer is hundreds of parts. ``DirectWriteServer`` first tries the write itself,
without yielding: on a plain TCP socket, when no other write of the connection is in progress
(the lock is free) and the kernel takes all of the bytes, that is the whole write. Anything
else (TLS, a write already waiting, a full socket buffer, an error) goes the way hypercorn
goes, with what is left, so order, back-pressure, shielding and error handling are hypercorn's
own.

Guarantees: the bytes reach the socket in the order hypercorn hands them over; a partial write
is finished by hypercorn's path before any later write (nothing yields in between, so no other
task can take the lock first). Never: blocks the event loop (the socket is non-blocking), or
changes what is written.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import hypercorn.trio.run as _run
import trio
from hypercorn.events import RawData
from hypercorn.trio.tcp_server import TCPServer

log = logging.getLogger("lynkr.server")


class DirectWriteServer(TCPServer):
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


def install() -> bool:
    """Serve hypercorn's trio connections with ``DirectWriteServer``; False when this
    hypercorn is not shaped as expected (then it is left as it is)."""
    current = getattr(_run, "TCPServer", None)
    if not (isinstance(current, type) and issubclass(current, TCPServer)
            and hasattr(TCPServer, "protocol_send") and hasattr(TCPServer, "__init__")):
        log.warning("hypercorn's trio server is not the expected shape; direct writes are off")
        return False
    if not issubclass(current, DirectWriteServer):
        setattr(_run, "TCPServer", DirectWriteServer)  # noqa: B010  (module attribute swap)
    return True
