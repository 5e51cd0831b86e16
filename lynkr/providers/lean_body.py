"""The lean transport's connections and response bodies: one socket read per body batch.

A ``Conn`` is one pooled HTTP/1.1 connection; ``LeanBody`` reads a response body off it, one
socket read's worth per ``next()`` (every HTTP chunk that read brought, joined), and hands the
connection back to its ``Pool`` once the body is complete, or closes it.

Guarantees: a read that fails is httpx's ``ReadError`` (``ReadTimeout`` past ``read_s``), and the
connection is closed; a body the server cut short is ``RemoteProtocolError``. Never: gives back
a connection whose body was not read to its end, or one with bytes after the body.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from typing import Any, Protocol

import httpx
import trio

from lynkr.providers.h1_codec import BodyDecoder, ProtocolError
from lynkr.providers.lean_read import Reader

Origin = tuple[str, str, int]  # scheme, host, port


class Pool(Protocol):
    def give_back(self, conn: Conn) -> None: ...

    def discard(self, conn: Conn) -> None: ...


class Conn:
    __slots__ = ("closed", "fd", "idle_since", "origin", "reader", "stream")

    def __init__(self, stream: trio.abc.Stream, origin: Origin) -> None:
        self.stream = stream
        self.origin = origin
        self.idle_since = 0.0
        self.closed = False
        self.fd = socket_of(stream).fileno()
        self.reader = Reader(stream)

    def closed_by_peer(self) -> bool:
        """An idle connection that is readable was closed (or spoke out of turn)."""
        try:
            readable, _, _ = select.select([self.fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


def socket_of(stream: trio.abc.Stream) -> trio.socket.SocketType:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    assert isinstance(inner, trio.SocketStream)
    return inner.socket


class Stale(Exception):
    """A reused connection was found dead before any byte of the answer."""


async def receive(
    conn: Conn, read_s: float | None, request: httpx.Request | None, stale_ok: bool = False
) -> bytes:
    """One socket read within ``read_s``; b"" at the connection's end."""
    try:
        data = await conn.reader.receive(read_s)
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
        if stale_ok:
            raise Stale() from exc
        raise httpx.ReadError(
            f"the connection broke while reading ({exc})", request=request
        ) from exc
    if data is None:
        raise httpx.ReadTimeout(f"nothing was received within {read_s:g}s", request=request)
    return data


class LeanBody(httpx.AsyncByteStream):
    """A response body, one socket read's worth of it per ``next()``."""

    def __init__(
        self,
        transport: Pool,
        conn: Conn,
        decoder: BodyDecoder,
        first: bytes,
        read_s: float | None,
        keep_alive: bool,
        request: httpx.Request | None,
    ) -> None:
        self._transport = transport
        self._conn: Conn | None = conn
        self._decoder = decoder
        self._read_s = read_s
        self._keep_alive = keep_alive
        self._request = request
        self._first = first

    async def next(self) -> bytes | None:
        """The body bytes the next socket read brings (all of them); None at the body's end."""
        if self._first:
            first, self._first = self._first, b""
            if self._decoder.done:
                self.finish()
            return first
        decoder = self._decoder
        while not decoder.done:
            conn = self._conn
            if conn is None:
                raise httpx.ReadError("the body was closed", request=self._request)
            try:
                data = await receive(conn, self._read_s, self._request)
            except BaseException:
                self._close()
                raise
            if not data:
                self._close()
                if decoder.incomplete():
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection before the body was complete",
                        request=self._request,
                    )
                return None
            try:
                body = decoder.decode(data)
            except ProtocolError as exc:
                self._close()
                raise httpx.RemoteProtocolError(str(exc), request=self._request) from None
            if decoder.done:
                self.finish()
            if body:
                return body
        self.finish()
        return None

    def finish(self) -> None:
        """The body is complete: the connection goes back to the pool if it may."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._keep_alive and not self._decoder.rest and not self._decoder.until_close:
            self._transport.give_back(conn)
        else:
            self._transport.discard(conn)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport.discard(conn)

    def __aiter__(self) -> AsyncIterator[bytes]:
        # an iterator object, not an async generator: one dropped half-read (an error body
        # read up to its bound) leaves nothing for the garbage collector to finalize
        return _Chunks(self)

    async def aclose(self) -> None:
        if self._first or not self._decoder.done:
            self._first = b""
            self._close()

    def __repr__(self) -> str:
        return f"<LeanBody done={self._decoder.done}>"


class _Chunks:
    __slots__ = ("_body",)

    def __init__(self, body: LeanBody) -> None:
        self._body = body

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        while (data := await self._body.next()) is not None:
            if data:
                return data
        raise StopAsyncIteration


def lean_body(response: httpx.Response) -> LeanBody | None:
    """The lean transport's body reader behind ``response`` (None: another transport's)."""
    body: Any = response.extensions.get("lean_body")
    return body if isinstance(body, LeanBody) else None
