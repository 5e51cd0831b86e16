"""A lean httpx transport for the upstream calls: HTTP/1.1 on trio streams, its own keep-alive
pool, and one body batch per socket read.

httpx stays the client API (``build_request``, ``send``, error classes, proxies from the
environment, content decoding); this replaces only what is under it, httpcore and h11, whose
per-chunk layers were most of the relay's cost (``benchmarks/results``). The framing is the
pure ``h1_codec``; this module is its I/O shell (bodies and connections: ``lean_body``).
``exchange`` is the same request without httpx's client around it: a caller that has the
whole request's bytes already (``providers.direct``) gets the head and the body reader, with
the same pool, timeouts, retry and errors.

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

import ssl

import attrs
import httpx
import trio

from lynkr.providers.h1_codec import BodyDecoder, Head, ProtocolError, parse_head, request_bytes
from lynkr.providers.lean_body import Conn, LeanBody, Origin, Stale, lean_body, receive, socket_of

__all__ = ["LeanBody", "LeanTransport", "Origin", "Timeouts", "lean_body"]

MAX_HEAD = 64 * 1024


@attrs.frozen
class Timeouts:
    """httpx's four timeouts in seconds (None: unbounded)."""

    connect: float | None = None
    read: float | None = None
    write: float | None = None
    pool: float | None = None

    @classmethod
    def of(cls, request: httpx.Request) -> Timeouts:
        """The timeouts httpx's client put on ``request``."""
        given = request.extensions.get("timeout", {})
        return cls(given.get("connect"), given.get("read"), given.get("write"),
                   given.get("pool"))


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
        self._idle: dict[Origin, list[Conn]] = {}
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
        head, body = await self.exchange(origin, method, data, Timeouts.of(request), request)
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

    async def exchange(
        self,
        origin: Origin,
        method: bytes,
        data: bytes,
        timeouts: Timeouts,
        request: httpx.Request | None = None,
    ) -> tuple[Head, LeanBody]:
        """Send ``data`` (a whole request: head and body) to ``origin`` and read the answer's
        head: the head, and the reader of the body after it. The pool, the timeouts and the
        one retry of a dead reused connection are those of every request through this
        transport; failures are httpx's exception classes (naming ``request`` if given)."""
        for attempt in (0, 1):
            conn, reused = await self._checkout(origin, timeouts, request)
            try:
                head, decoder, first = await self._exchange(
                    conn, reused, method, data, timeouts, request
                )
            except Stale:
                self.discard(conn)
                if attempt == 0:  # the others idle as long are likely dead too
                    for stale in self._idle.pop(origin, []):
                        self.discard(stale)
                    continue
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                ) from None
            except BaseException:
                self.discard(conn)
                raise
            body = LeanBody(self, conn, decoder, first, timeouts.read, head.keep_alive, request)
            if decoder.done:
                body.finish()
            return head, body
        raise AssertionError("unreachable")

    async def _exchange(
        self,
        conn: Conn,
        reused: bool,
        method: bytes,
        data: bytes,
        timeouts: Timeouts,
        request: httpx.Request | None,
    ) -> tuple[Head, BodyDecoder, bytes]:
        """The request written, the answer's head read; a dead reused connection is
        ``Stale``."""
        stream = conn.stream
        with trio.move_on_after(timeouts.write or float("inf")) as writing:
            try:
                await stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise (
                    Stale()
                    if reused
                    else httpx.WriteError(
                        f"the connection broke while sending ({exc})", request=request
                    )
                ) from exc
        if writing.cancelled_caught:
            raise httpx.WriteTimeout("the request could not be sent in time", request=request)
        held = b""
        while True:
            chunk = await receive(conn, timeouts.read, request, stale_ok=reused and not held)
            if not chunk:
                if reused and not held:
                    raise Stale()
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

    async def _checkout(
        self, origin: Origin, timeouts: Timeouts, request: httpx.Request | None
    ) -> tuple[Conn, bool]:
        """An idle connection to ``origin`` (reused: True) or a new one."""
        while True:
            conn = self._take_idle(origin)
            if conn is not None:
                return conn, True
            if self._open < self._max:
                self._open += 1
                try:
                    return await self._connect(origin, timeouts.connect, request), False
                except BaseException:
                    self._release()
                    raise
            if self._close_other_idle(origin):
                continue
            await self._wait_for_change(timeouts.pool, request)

    async def _wait_for_change(self, pool_s: float | None, request: httpx.Request | None) -> None:
        if self._changed is None:
            self._changed = trio.Event()
        changed = self._changed
        with trio.move_on_after(pool_s or float("inf")):
            await changed.wait()
            return
        raise httpx.PoolTimeout("no connection came free in time", request=request)

    def _take_idle(self, origin: Origin) -> Conn | None:
        idle = self._idle.get(origin)
        now = trio.current_time()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self._keepalive_s and not conn.closed_by_peer():
                return conn
            self.discard(conn)
        return None

    def _close_other_idle(self, origin: Origin) -> bool:
        for key, idle in self._idle.items():
            if key != origin and idle:
                self.discard(idle.pop(0))
                return True
        return False

    async def _connect(
        self, origin: Origin, connect_s: float | None, request: httpx.Request | None
    ) -> Conn:
        scheme, host, port = origin
        with trio.move_on_after(connect_s or float("inf")) as connecting:
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
            return Conn(stream, origin)
        assert connecting.cancelled_caught
        raise httpx.ConnectTimeout("the connection was not established in time", request=request)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return self._ssl

    def give_back(self, conn: Conn) -> None:
        if self._closed:
            self.discard(conn)
            return
        conn.idle_since = trio.current_time()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._notify()

    def discard(self, conn: Conn) -> None:
        """Close ``conn`` now (without waiting for the peer) and free its place."""
        if conn.closed:
            return
        conn.closed = True
        socket_of(conn.stream).close()
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
                self.discard(idle.pop())
        await trio.lowlevel.checkpoint()
