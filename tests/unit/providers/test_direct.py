"""The direct path (``providers.direct``) against scripted HTTP/1.1 servers on loopback: the
bytes on the wire are httpx's, error statuses and failures map as through httpx, a proxy from
the environment keeps httpx's path, and the pool's retry, timeouts and cancellation hold."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import httpx
import pytest
import trio

from lynkr.config.settings import load_settings
from lynkr.model.content import TextBlock
from lynkr.model.errors import LynkrError, PoolBusy, UpstreamTimeout, UpstreamUnreachable
from lynkr.model.events import StreamError
from lynkr.model.request import Message, Request
from lynkr.ports import Answering
from lynkr.providers import http as http_module
from lynkr.providers.direct import direct_route
from lynkr.providers.http import HttpUpstream, http_client

KEY = "sk-direct-secret"
REQUEST = Request("m", (Message("user", (TextBlock("hi"),)),), 64, stream=True,
                  betas=("interleaved-thinking-2025-05-14",))
SSE = b"".join(b"data: %s\n\n" % line for line in (
    b'{"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,'
    b'"delta":{"role":"assistant","content":"hello"},"finish_reason":null}]}',
    b'{"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,'
    b'"delta":{},"finish_reason":"stop"}]}', b"[DONE]"))
Handler = Callable[[trio.SocketStream, int], Awaitable[None]]


def answer(body: bytes = SSE, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/event-stream\r\n" + extra
            + b"content-length: %d\r\n\r\n" % len(body) + body)


async def read_request(stream: trio.SocketStream) -> bytes:
    """One whole request (head and Content-Length body); b"" when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = await stream.receive_some(65536)
        if not more:
            return b""
        data += more
    head = data.split(b"\r\n\r\n", 1)[0]
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length")), 0)
    while len(data) < len(head) + 4 + length:
        data += await stream.receive_some(65536)
    return data


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.seen: list[bytes] = []

    async def __call__(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        try:
            await self.handler(stream, self.connections)
        except trio.BrokenResourceError:
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async def start(self, nursery: trio.Nursery) -> int:
        listeners = await nursery.start(partial(trio.serve_tcp, self, 0, host="127.0.0.1"))
        return int(listeners[0].socket.getsockname()[1])


def replying(server_reply: Callable[[int], bytes], record: Server | None = None) -> Handler:
    async def handler(stream: trio.SocketStream, _n: int) -> None:
        while request := await read_request(stream):
            if record is not None:
                record.seen.append(request)
            await stream.send_all(server_reply(len(record.seen) if record else 0))
    return handler


def provider(name: str, port: int, **env: str) -> HttpUpstream:
    endpoints = {"openai": ("OPENAI", f"http://127.0.0.1:{port}/v1/chat/completions?x=1"),
                 "anthropic": ("ANTHROPIC_UPSTREAM", f"http://127.0.0.1:{port}/v1/messages"),
                 "ollama": ("OLLAMA", f"http://localhost:{port}")}
    prefix, url = endpoints[name]
    environ = {"MODEL_PROVIDER": name, f"{prefix}_ENDPOINT": url, **env}
    if name != "ollama":
        environ[f"{prefix}_API_KEY"] = KEY
    settings = load_settings(environ=environ, env_file="/nonexistent/.env")
    chosen = settings.providers[name]
    return HttpUpstream(chosen, http_client(settings, chosen), limits=settings.limits)


async def events(target: HttpUpstream) -> list[Any]:
    out: list[Any] = []
    async with target.open(target.prepare(REQUEST, Answering("msg", "m"))) as batches:
        async for batch in batches:
            out.extend(batch)
    return out


def no_httpx_send(target: HttpUpstream) -> None:
    async def refuse(*_a: object, **_k: object) -> httpx.Response:
        raise AssertionError("the call went through httpx's client")
    target.client.send = refuse  # type: ignore[method-assign]


async def through_both(monkeypatch: pytest.MonkeyPatch, name: str, reply: Callable[[int], bytes],
                       calls: int = 1, **env: str) -> tuple[list[bytes], list[bytes]]:
    """The requests a server received for ``calls`` calls on the direct path, then on httpx's."""
    seen = []
    for direct in (True, False):
        server = Server(replying(reply))
        server.handler = replying(reply, server)
        async with trio.open_nursery() as nursery:
            port = await server.start(nursery)
            target = provider(name, port, **env)
            with monkeypatch.context() as patch:
                if direct:
                    no_httpx_send(target)
                else:
                    patch.setattr(http_module, "direct_route", lambda *_a: None)
                for _ in range(calls):
                    await events(target)
            await target.aclose()
            nursery.cancel_scope.cancel()
        seen.append([request.replace(b":%d" % port, b":PORT") for request in server.seen])
    return seen[0], seen[1]


@pytest.mark.parametrize(("name", "env"), [
    ("openai", {"OPENAI_ORGANIZATION": "org-1"}),
    ("anthropic", {}),
    ("ollama", {}),
])
async def test_the_bytes_on_the_wire_are_httpxs(monkeypatch: pytest.MonkeyPatch, name: str,
                                                env: dict[str, str]) -> None:
    direct, via_httpx = await through_both(monkeypatch, name, lambda _n: answer(), calls=2,
                                           **env)
    assert direct == via_httpx and len(direct) == 2
    assert direct[0].startswith(b"POST /") and b"\r\nContent-Length: " in direct[0]


async def test_a_cookie_the_upstream_set_is_sent_back_as_httpx_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def reply(n: int) -> bytes:
        return answer(extra=b"set-cookie: session=abc; Path=/\r\n" if n == 1 else b"")

    direct, via_httpx = await through_both(monkeypatch, "openai", reply, calls=2)
    assert direct == via_httpx
    assert b"\r\nCookie: session=abc\r\n" in direct[1]


async def error_of(monkeypatch: pytest.MonkeyPatch, reply: bytes, direct: bool
                   ) -> LynkrError:
    server = Server(replying(lambda _n: reply))
    async with trio.open_nursery() as nursery:
        port = await server.start(nursery)
        target = provider("openai", port, UPSTREAM_ERROR_BODY_BYTES="1024")
        with monkeypatch.context() as patch:
            if direct:
                no_httpx_send(target)
            else:
                patch.setattr(http_module, "direct_route", lambda *_a: None)
            with pytest.raises(LynkrError) as caught:
                await events(target)
        await target.aclose()
        nursery.cancel_scope.cancel()
    return caught.value


ERROR_REPLIES = {
    "rate-limited": answer(b'{"error":{"message":"slow down, ' + KEY.encode() + b'"}}',
                           b"429 Too Many Requests", b"retry-after: 7\r\n"),
    "gzip": answer(gzip.compress(b'{"error":{"message":"overloaded"}}'),
                   b"503 Service Unavailable", b"content-encoding: gzip\r\n"),
    "long": answer(b'{"error":{"message":"' + b"x" * 5000 + b'"}}', b"400 Bad Request"),
    "empty": answer(b"", b"401 Unauthorized"),
}


@pytest.mark.parametrize("reply", ERROR_REPLIES.values(), ids=ERROR_REPLIES.keys())
async def test_error_statuses_are_the_same_errors(monkeypatch: pytest.MonkeyPatch,
                                                  reply: bytes) -> None:
    direct = await error_of(monkeypatch, reply, True)
    via_httpx = await error_of(monkeypatch, reply, False)
    assert (type(direct), str(direct), direct.retry_after) == \
        (type(via_httpx), str(via_httpx), via_httpx.retry_after)
    assert KEY not in str(direct)


async def test_a_url_the_client_sends_through_a_proxy_keeps_httpxs_path() -> None:
    """A proxy mounted for the URL (as httpx mounts one from the environment) is not the lean
    transport: no direct route, and the request reaches the proxy."""
    proxy = Server(replying(lambda _n: answer()))
    proxy.handler = replying(lambda _n: answer(), proxy)
    async with trio.open_nursery() as nursery:
        proxy_port = await proxy.start(nursery)
        target = provider("openai", 9)  # the discard port: only the proxy can answer
        lean = target.client._transport
        target.client = httpx.AsyncClient(
            transport=lean, timeout=target.client.timeout,
            mounts={"http://": httpx.AsyncHTTPTransport(proxy=f"http://127.0.0.1:{proxy_port}")})
        assert direct_route(target.client, target.settings.endpoint) is None
        assert direct_route(target.client, "https://other.test/v1") is not None
        assert [e.text for e in await events(target) if hasattr(e, "text")] == ["hello"]
        await target.aclose()
        nursery.cancel_scope.cancel()
    [request] = proxy.seen
    assert request.startswith(b"POST http://127.0.0.1:9/v1/chat/completions?x=1")


async def test_a_reused_connection_found_dead_is_replaced_once() -> None:
    async def forgets(stream: trio.SocketStream, n: int) -> None:
        await read_request(stream)
        await stream.send_all(answer())
        if n == 1:  # keeps the connection open, then drops the next request unanswered
            await read_request(stream)

    server = Server(forgets)
    async with trio.open_nursery() as nursery:
        target = provider("openai", await server.start(nursery))
        no_httpx_send(target)
        for _ in range(2):
            assert [e.text for e in await events(target) if hasattr(e, "text")] == ["hello"]
        await target.aclose()
        nursery.cancel_scope.cancel()
    assert server.connections == 2


async def test_timeouts_and_failures_map_as_through_httpx() -> None:
    async def stalls(stream: trio.SocketStream, n: int) -> None:
        await read_request(stream)
        if n >= 2:  # the head, a piece of an event, then silence
            await stream.send_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                                  b"5\r\ndata:\r\n")
        await trio.sleep_forever()

    server = Server(stalls)
    async with trio.open_nursery() as nursery:
        port = await server.start(nursery)
        target = provider("openai", port, OPENAI_TIMEOUT_MS="200", UPSTREAM_MAX_CONNECTIONS="2",
                          UPSTREAM_POOL_TIMEOUT_MS="100")
        no_httpx_send(target)
        with pytest.raises(UpstreamTimeout, match=r"sent nothing for 0\.2s"):
            await events(target)  # no head within the read timeout
        got = await events(target)  # silence in the middle of the body
        assert got[-1] == StreamError("timeout_error", target.silent_message())
        call = target.prepare(REQUEST, Answering("msg", "m"))
        async with target.open(call), target.open(call):  # both places taken
            with pytest.raises(PoolBusy):
                await events(target)
        await target.aclose()
        nursery.cancel_scope.cancel()
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))  # bound, never listening: refused
        refused = provider("openai", sock.getsockname()[1])
        with pytest.raises(UpstreamUnreachable, match="connection refused"):
            await events(refused)
        await refused.aclose()


async def test_a_cancelled_read_frees_its_connection() -> None:
    async def one_then_silence(stream: trio.SocketStream, _n: int) -> None:
        await read_request(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        await trio.sleep_forever()

    server = Server(one_then_silence)
    async with trio.open_nursery() as nursery:
        target = provider("openai", await server.start(nursery),
                          UPSTREAM_MAX_CONNECTIONS="1", UPSTREAM_POOL_TIMEOUT_MS="500")
        no_httpx_send(target)
        for _ in range(2):  # the second finds the only place free again
            with trio.move_on_after(0.1) as scope:
                await events(target)
            assert scope.cancelled_caught
        await target.aclose()
        nursery.cancel_scope.cancel()
    assert server.connections == 2


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def test_a_proxy_from_the_environment_is_used_on_the_lean_transport(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``HTTP_PROXY`` reaches the upstream call with the lean transport, the default (httpx
    reads the environment only for a client without a transport of its own); ``NO_PROXY``
    keeps a host on the lean transport's direct path."""
    clear_proxies(monkeypatch)
    proxy = Server(replying(lambda _n: answer()))
    proxy.handler = replying(lambda _n: answer(), proxy)
    async with trio.open_nursery() as nursery:
        proxy_port = await proxy.start(nursery)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        target = provider("openai", 9)  # the discard port: only the proxy can answer
        assert direct_route(target.client, target.settings.endpoint) is None
        assert [e.text for e in await events(target) if hasattr(e, "text")] == ["hello"]
        await target.aclose()
        [request] = proxy.seen
        assert request.startswith(b"POST http://127.0.0.1:9/v1/chat/completions?x=1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        upstream = Server(replying(lambda _n: answer()))
        upstream.handler = replying(lambda _n: answer(), upstream)
        bypassing = provider("openai", await upstream.start(nursery))
        no_httpx_send(bypassing)  # the direct path, not httpx's
        assert [e.text for e in await events(bypassing) if hasattr(e, "text")] == ["hello"]
        await bypassing.aclose()
        nursery.cancel_scope.cancel()
    assert len(proxy.seen) == 1 and len(upstream.seen) == 1
