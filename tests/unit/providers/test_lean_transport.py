"""The lean transport against scripted HTTP/1.1 servers on loopback: keep-alive reuse, one
batch per socket read, a dead reused connection replaced once, and each failure raised as the
httpx error the providers already map (timeouts are real but short)."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from functools import partial

import httpx
import pytest
import trio
import trustme

from lynkr.model.errors import PoolBusy, UpstreamTimeout, UpstreamUnreachable
from lynkr.providers.lean_transport import LeanTransport, lean_body
from lynkr.providers.transport import make_client, transport_error

Handler = Callable[[trio.SocketStream, int], Awaitable[None]]
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def read_request(stream: trio.SocketStream) -> bytes:
    """One request (head and Content-Length body); b"" when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = await stream.receive_some(65536)
        if not more:
            return b""
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        body += await stream.receive_some(65536)
    return head


class Server:
    """Runs ``handler(stream, connection_number)`` for each connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.port = 0

    async def __call__(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        try:
            await self.handler(stream, self.connections)
        except trio.BrokenResourceError:
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async def start(self, nursery: trio.Nursery) -> str:
        listeners = await nursery.start(partial(trio.serve_tcp, self, 0, host="127.0.0.1"))
        self.port = listeners[0].socket.getsockname()[1]
        return f"http://127.0.0.1:{self.port}/v1/chat"


def client(**kw: float) -> httpx.AsyncClient:
    return make_client(
        connect_s=kw.get("connect", 2.0),
        read_s=kw.get("read", 2.0),
        max_connections=int(kw.get("max", 4)),
        keepalive_s=30.0,
        pool_s=kw.get("pool", 2.0),
        lean=True,
    )


async def answer_each(stream: trio.SocketStream, _n: int) -> None:
    """Keep-alive: every request answered with three events in one write."""
    while await read_request(stream):
        await stream.send_all(
            HEAD
            + chunk(b"data: 1\n\n")
            + chunk(b"data: 2\n\n")
            + chunk(b"data: [DONE]\n\n")
            + b"0\r\n\r\n"
        )


async def test_one_read_is_one_batch_and_the_connection_is_reused() -> None:
    server = Server(answer_each)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            for _ in range(3):
                request = http.build_request("POST", url, content=b'{"stream":true}')
                response = await http.send(request, stream=True)
                body = lean_body(response)
                assert body is not None and response.status_code == 200
                assert await body.next() == b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n"
                assert await body.next() is None
                await response.aclose()
        nursery.cancel_scope.cancel()
    assert server.connections == 1


async def test_the_client_api_reads_a_length_delimited_answer() -> None:
    async def json_answer(stream: trio.SocketStream, _n: int) -> None:
        while await read_request(stream):
            await stream.send_all(
                b'HTTP/1.1 201 Created\r\ncontent-length: 8\r\nx-a: 1\r\n\r\n{"a": 1}'
            )

    server = Server(json_answer)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            response = await http.post(url, json={"q": 1})
            assert (response.status_code, response.json(), response.headers["x-a"]) == (
                201,
                {"a": 1},
                "1",
            )
            assert response.reason_phrase == "Created"
            response = await http.get(url)
            assert response.json() == {"a": 1}
        nursery.cancel_scope.cancel()
    assert server.connections == 1


async def test_a_reused_connection_found_dead_is_replaced_once() -> None:
    async def forgets(stream: trio.SocketStream, n: int) -> None:
        await read_request(stream)
        if n == 1:  # answers once, keeps the connection open, then drops the next request
            await stream.send_all(HEAD + chunk(b"data: 1\n\n") + b"0\r\n\r\n")
            await read_request(stream)
            return
        await stream.send_all(HEAD + chunk(b"data: fresh\n\n") + b"0\r\n\r\n")

    server = Server(forgets)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            assert (await http.post(url, content=b"1")).content == b"data: 1\n\n"
            assert (await http.post(url, content=b"2")).content == b"data: fresh\n\n"
        nursery.cancel_scope.cancel()
    assert server.connections == 2


async def test_a_fresh_connection_closed_without_an_answer_is_an_error() -> None:
    async def drops(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)

    server = Server(drops)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.post(url, content=b"1")
        nursery.cancel_scope.cancel()
    assert server.connections == 1  # never retried: the request may have been taken


async def test_an_answer_cut_in_the_middle_is_an_error_and_not_reused() -> None:
    async def cuts(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)
        await stream.send_all(HEAD + chunk(b"data: 1\n\n") + b"20\r\npartial")

    server = Server(cuts)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            response = await http.send(http.build_request("POST", url, content=b"1"), stream=True)
            body = lean_body(response)
            assert body is not None
            assert await body.next() == b"data: 1\n\npartial"
            with pytest.raises(httpx.RemoteProtocolError, match="before the body was complete"):
                await body.next()
            await response.aclose()
        nursery.cancel_scope.cancel()


async def test_silence_past_the_read_timeout() -> None:
    async def stalls(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)
        await stream.send_all(HEAD + chunk(b"data: 1\n\n"))
        await trio.sleep_forever()

    server = Server(stalls)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client(read=0.2) as http:
            response = await http.send(http.build_request("POST", url, content=b"1"), stream=True)
            body = lean_body(response)
            assert body is not None and await body.next() == b"data: 1\n\n"
            with pytest.raises(httpx.ReadTimeout):
                await body.next()
            await response.aclose()
        nursery.cancel_scope.cancel()


async def test_no_head_within_the_read_timeout_maps_to_upstream_timeout() -> None:
    async def never(stream: trio.SocketStream, _n: int) -> None:
        await trio.sleep_forever()

    server = Server(never)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client(read=0.2) as http:
            with pytest.raises(httpx.ReadTimeout) as caught:
                await http.post(url, content=b"1")
        assert isinstance(transport_error("p", caught.value, "silent"), UpstreamTimeout)
        nursery.cancel_scope.cancel()


async def test_a_full_pool_waits_then_is_pool_busy() -> None:
    async def slow(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)
        await stream.send_all(HEAD)
        await trio.sleep_forever()

    server = Server(slow)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client(max=1, pool=0.2) as http:
            first = await http.send(http.build_request("POST", url, content=b"1"), stream=True)
            with pytest.raises(httpx.PoolTimeout) as caught:
                await http.post(url, content=b"2")
            assert isinstance(transport_error("p", caught.value, "silent", 0.2), PoolBusy)
            await first.aclose()  # an unfinished body: its connection is closed, a place frees
            second = await http.send(http.build_request("POST", url, content=b"3"), stream=True)
            assert second.status_code == 200
            await second.aclose()
        nursery.cancel_scope.cancel()
    assert server.connections == 2


async def test_a_refused_connection_is_a_connect_error() -> None:
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        async with client() as http:
            with pytest.raises(httpx.ConnectError) as caught:
                await http.post(f"http://127.0.0.1:{port}/", content=b"1")
    assert isinstance(transport_error("p", caught.value, "silent"), UpstreamUnreachable)


async def test_a_malformed_answer_is_a_protocol_error() -> None:
    async def garbage(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)
        await stream.send_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    server = Server(garbage)
    async with trio.open_nursery() as nursery:
        url = await server.start(nursery)
        async with client() as http:
            with pytest.raises(httpx.RemoteProtocolError, match="status line"):
                await http.post(url, content=b"1")
        nursery.cancel_scope.cancel()


async def test_other_schemes_are_refused() -> None:
    async with httpx.AsyncClient(transport=LeanTransport(max_connections=1, keepalive_s=1)) as http:
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.get("ftp://127.0.0.1/")


async def test_https_verifies_the_server_and_reuses_the_connection() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    connections = 0

    async def tls(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        wrapped = trio.SSLStream(stream, server_ctx, server_side=True, https_compatible=True)
        try:
            while await read_request(wrapped):  # type: ignore[arg-type]
                await wrapped.send_all(HEAD + chunk(b"data: secure\n\n") + b"0\r\n\r\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(wrapped)

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, tls, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        transport = LeanTransport(max_connections=2, keepalive_s=30, ssl_context=client_ctx)
        async with httpx.AsyncClient(transport=transport) as http:
            for _ in range(2):
                response = await http.post(f"https://localhost:{port}/v1", content=b"{}")
                assert response.content == b"data: secure\n\n"
        other = ssl.create_default_context()  # does not trust the test CA
        async with httpx.AsyncClient(
            transport=LeanTransport(max_connections=1, keepalive_s=30, ssl_context=other)
        ) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.post(f"https://localhost:{port}/v1", content=b"{}")
        nursery.cancel_scope.cancel()
    assert connections == 2  # one kept alive for both requests, one refused by the client
