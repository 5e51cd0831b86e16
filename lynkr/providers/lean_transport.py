"""A lean httpx transport for the upstream calls: HTTP/1.1 on trio streams, its own keep-alive
pool, and one body batch per socket read.

httpx stays the client API (``build_request``, ``send``, error classes, proxies from the
environment, content decoding); this replaces only what is under it, httpcore and h11, whose
per-chunk layers were most of the relay's cost (``benchmarks/results``). The framing is the
pure ``h1_codec``; this module is its I/O shell.

Guarantees: the same timeouts as httpx's (``connect``, ``read`` per socket read, ``write``,
``pool``), raised as httpx's own exception classes, so ``providers.transport`` maps them as
before; at most ``max_connections`` connections open at once (a wait beyond ``pool`` is
``httpx.PoolTimeout``); an idle connection is reused within ``keepalive_s`` unless the server
closed it. A reused connection that turns out dead before any byte of the answer came back
(the server closed it while the request was on its way) is replaced by a fresh one once,
as httpcore does; any other failure is raised. The body reader (``LeanBody.next``) returns
everything one read brought, so a batch holds every upstream event that had arrived.
Never: retries a request on a fresh connection after a byte of its answer arrived, or reuses
a connection whose body was not read to its end.
"""

from __future__ import annotations

import select
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import trio

from lynkr.providers.h1_codec import BodyDecoder, Head, ProtocolError, parse_head, request_bytes

READ_SIZE = 65536
MAX_HEAD = 64 * 1024

Origin = tuple[str, str, int]


class _Conn:
    __slots__ = ("closed", "fd", "idle_since", "origin", "stream")

    def __init__(self, stream: trio.abc.Stream, origin: Origin) -> None:
        self.stream = stream
        self.origin = origin
        self.idle_since = 0.0
        self.closed = False
        self.fd = _socket(stream).fileno()

    def closed_by_peer(self) -> bool:
        """An idle connection that is readable was closed (or spoke out of turn)."""
        try:
            readable, _, _ = select.select([self.fd], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


def _socket(stream: trio.abc.Stream) -> trio.socket.SocketType:
    inner = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    assert isinstance(inner, trio.SocketStream)
    return inner.socket


class _Stale(Exception):
    """A reused connection was found dead before any byte of the answer."""


def _timeout(request: httpx.Request, name: str) -> float | None:
    value: float | None = request.extensions.get("timeout", {}).get(name)
    return value


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_s: float,
        ssl_context: ssl.SSLContext | None = None,
        max_head: int = MAX_HEAD,
    ) -> None:
        self._max = max_connections
        self._keepalive_s = keepalive_s
        self._ssl = ssl_context
        self._max_head = max_head
        self._idle: dict[Origin, list[_Conn]] = {}
        self._open = 0
        self._changed: trio.Event | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"the lean transport speaks http and https, not {url.scheme!r}", request=request
            )
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        method = request.method.encode()
        data = request_bytes(method, url.raw_path, request.headers.raw, await request.aread())
        for attempt in (0, 1):
            conn, reused = await self._checkout(origin, request)
            try:
                head, decoder, first = await self._exchange(conn, reused, method, data, request)
            except _Stale:
                self._discard(conn)
                if attempt == 0:  # the others idle as long are likely dead too
                    for stale in self._idle.pop(origin, []):
                        self._discard(stale)
                    continue
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                ) from None
            except BaseException:
                self._discard(conn)
                raise
            body = LeanBody(
                self, conn, decoder, first, _timeout(request, "read"), head.keep_alive, request
            )
            if decoder.done:
                body.finish()
            return httpx.Response(
                head.status,
                headers=list(head.headers),
                stream=body,
                extensions={
                    "http_version": b"HTTP/1.1",
                    "reason_phrase": head.reason,
                    "lean_body": body,
                },
                request=request,
            )
        raise AssertionError("unreachable")

    async def _exchange(
        self, conn: _Conn, reused: bool, method: bytes, data: bytes, request: httpx.Request
    ) -> tuple[Head, BodyDecoder, bytes]:
        """The request written, the answer's head read; a dead reused connection is
        ``_Stale``."""
        stream = conn.stream
        with trio.move_on_after(_timeout(request, "write") or float("inf")) as writing:
            try:
                await stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise (
                    _Stale()
                    if reused
                    else httpx.WriteError(
                        f"the connection broke while sending ({exc})", request=request
                    )
                ) from exc
        if writing.cancelled_caught:
            raise httpx.WriteTimeout("the request could not be sent in time", request=request)
        held = b""
        read_s = _timeout(request, "read")
        while True:
            chunk = await _receive(stream, read_s, request, stale_ok=reused and not held)
            if not chunk:
                if reused and not held:
                    raise _Stale()
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                )
            held += chunk
            try:
                parsed = parse_head(held, self._max_head)
            except ProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            if parsed is not None:
                head, end = parsed
                decoder = BodyDecoder(method, head)
                try:
                    first = decoder.decode(held[end:]) if end < len(held) else b""
                except ProtocolError as exc:
                    raise httpx.RemoteProtocolError(str(exc), request=request) from None
                return head, decoder, first

    async def _checkout(self, origin: Origin, request: httpx.Request) -> tuple[_Conn, bool]:
        """An idle connection to ``origin`` (reused: True) or a new one."""
        while True:
            conn = self._take_idle(origin)
            if conn is not None:
                return conn, True
            if self._open < self._max:
                self._open += 1
                try:
                    return await self._connect(origin, request), False
                except BaseException:
                    self._release()
                    raise
            if self._close_other_idle(origin):
                continue
            await self._wait_for_change(request)

    async def _wait_for_change(self, request: httpx.Request) -> None:
        if self._changed is None:
            self._changed = trio.Event()
        changed = self._changed
        with trio.move_on_after(_timeout(request, "pool") or float("inf")):
            await changed.wait()
            return
        raise httpx.PoolTimeout("no connection came free in time", request=request)

    def _take_idle(self, origin: Origin) -> _Conn | None:
        idle = self._idle.get(origin)
        now = trio.current_time()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self._keepalive_s and not conn.closed_by_peer():
                return conn
            self._discard(conn)
        return None

    def _close_other_idle(self, origin: Origin) -> bool:
        for key, idle in self._idle.items():
            if key != origin and idle:
                self._discard(idle.pop(0))
                return True
        return False

    async def _connect(self, origin: Origin, request: httpx.Request) -> _Conn:
        scheme, host, port = origin
        with trio.move_on_after(_timeout(request, "connect") or float("inf")) as connecting:
            try:
                stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
                if scheme == "https":
                    tls = trio.SSLStream(
                        stream, self._ssl_context(), server_hostname=host, https_compatible=True
                    )
                    try:
                        await tls.do_handshake()
                    except BaseException:
                        await trio.aclose_forcefully(stream)
                        raise
                    stream = tls
            except (OSError, trio.BrokenResourceError, ssl.SSLError) as exc:
                cause = exc.__cause__ or exc  # trio wraps a failed TLS handshake's SSLError
                raise httpx.ConnectError(
                    str(cause) or type(cause).__name__, request=request
                ) from exc
            return _Conn(stream, origin)
        assert connecting.cancelled_caught
        raise httpx.ConnectTimeout("the connection was not established in time", request=request)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def give_back(self, conn: _Conn) -> None:
        if self._closed:
            self._discard(conn)
            return
        conn.idle_since = trio.current_time()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._notify()

    def _discard(self, conn: _Conn) -> None:
        """Close ``conn`` now (without waiting for the peer) and free its place."""
        if conn.closed:
            return
        conn.closed = True
        _socket(conn.stream).close()
        self._release()

    def _release(self) -> None:
        self._open -= 1
        self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                self._discard(idle.pop())
        await trio.lowlevel.checkpoint()


async def _receive(
    stream: trio.abc.Stream, read_s: float | None, request: httpx.Request, stale_ok: bool = False
) -> bytes:
    """One socket read within ``read_s``; b"" at the connection's end."""
    try:
        if read_s is None:
            data = await stream.receive_some(READ_SIZE)
            return data if isinstance(data, bytes) else bytes(data)
        with trio.move_on_after(read_s):
            data = await stream.receive_some(READ_SIZE)
            return data if isinstance(data, bytes) else bytes(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
        if stale_ok:
            raise _Stale() from exc
        raise httpx.ReadError(
            f"the connection broke while reading ({exc})", request=request
        ) from exc
    raise httpx.ReadTimeout(f"nothing was received within {read_s:g}s", request=request)


class LeanBody(httpx.AsyncByteStream):
    """A response body, one socket read's worth of it per ``next()``."""

    def __init__(
        self,
        transport: LeanTransport,
        conn: _Conn,
        decoder: BodyDecoder,
        first: bytes,
        read_s: float | None,
        keep_alive: bool,
        request: httpx.Request,
    ) -> None:
        self._transport = transport
        self._conn: _Conn | None = conn
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
                data = await _receive(conn.stream, self._read_s, self._request)
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
            self._transport._discard(conn)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._discard(conn)

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
