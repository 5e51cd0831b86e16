"""Direct writes under hypercorn (``lynkr.server.connection``): every byte in order, whether the
kernel takes a write whole, in part (a slow reader fills the socket's buffer) or not at all (the
reader went away)."""

from __future__ import annotations

import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import hypercorn.trio.run
import pytest
import trio
from hypercorn.trio import serve

from lynkr.server import connection
from lynkr.server.connection import LeanConnection, install
from tests.harness.servers import _plain_config, run_in_thread, serve_asgi

PARTS = 3000
BIG = 4 * 1024 * 1024


def part(n: int) -> bytes:
    return f"part {n:05d} ".encode() * 3 + b"\n"


def expected_body() -> bytes:
    return b"".join(part(n) for n in range(PARTS)) + b"x" * BIG + b"end\n"


async def streaming_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    for n in range(PARTS):
        await send({"type": "http.response.body", "body": part(n), "more_body": True})
        if n % 500 == 0:
            await trio.sleep(0)
    await send({"type": "http.response.body", "body": b"x" * BIG, "more_body": True})
    await send({"type": "http.response.body", "body": b"end\n", "more_body": False})


def request_on(url: str, slow: bool = False) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.socket()
    if slow:  # a small receive buffer: the server's writes come back partial or refused
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
    return sock


def read_chunked(sock: socket.socket, slow: bool) -> bytes:
    data = b""
    while not data.endswith(b"\r\n0\r\n\r\n"):
        got = sock.recv(65536 if not slow else 2048)
        assert got, "the connection ended before the body"
        data += got
        if slow and len(data) < 256 * 1024:
            time.sleep(0.0005)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    out, at = [], 0
    while True:
        line_end = body.index(b"\r\n", at)
        size = int(body[at:line_end], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[line_end + 2:line_end + 2 + size])
        at = line_end + 2 + size + 2


def test_install_swaps_hypercorns_trio_server() -> None:
    assert install() is True
    assert hypercorn.trio.run.TCPServer is LeanConnection
    assert install() is True  # idempotent


@pytest.mark.parametrize("slow", [False, True], ids=["fast-reader", "slow-reader"])
def test_every_byte_arrives_in_order(slow: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    install()
    writes: list[tuple[int, int]] = []  # (bytes handed over, bytes the kernel took)
    write = os.write

    def counted(fd: int, data: bytes) -> int:
        try:
            sent = write(fd, data)
        except BlockingIOError:
            sent = -1
            raise
        finally:
            writes.append((len(data), sent))
        return sent

    monkeypatch.setattr(connection.os, "write", counted)
    with serve_asgi(streaming_app, name="direct-write") as url:
        with request_on(url, slow) as sock:
            assert read_chunked(sock, slow) == expected_body()
        whole = sum(1 for n, sent in writes if sent == n)
        assert whole >= PARTS * 0.9  # the parts went out directly
        if slow:  # and the slow reader made some go hypercorn's way
            assert any(sent < n for n, sent in writes)
        # the connection's lock and state survive: a second request on a new connection
        with request_on(url) as sock:
            assert read_chunked(sock, False) == expected_body()


def test_a_reader_that_goes_away_breaks_nothing() -> None:
    install()
    with serve_asgi(streaming_app, name="direct-write-gone") as url:
        sock = request_on(url, slow=True)
        sock.recv(1024)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset while the server still writes
        time.sleep(0.2)
        with request_on(url) as again:
            assert read_chunked(again, False) == expected_body()


async def slow_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/block":  # the whole loop busy for 0.5 s (parsing a burst, say)
        time.sleep(0.5)
    else:
        await trio.sleep(float(scope["path"].strip("/") or 0))  # GET /0.8: after 0.8 s
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def keep_alive_server(timeout_s: float) -> Any:
    config = _plain_config(0.2)
    config.keep_alive_timeout = timeout_s

    async def start(stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve(slow_app, config, shutdown_trigger=stop.wait, task_status=task_status)

    return run_in_thread(start, "keep-alive")


def ask(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        got = sock.recv(4096)
        assert got, f"closed before the answer to {path}: {data!r}"
        data += got
    return data


def closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes ``sock`` (it must, within 5 s)."""
    sock.settimeout(5)
    t0 = time.monotonic()
    assert sock.recv(4096) == b""
    return time.monotonic() - t0


def test_an_idle_connection_is_closed_at_its_keep_alive_deadline() -> None:
    install()
    with keep_alive_server(0.4) as url:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            ask(sock, "/0")
            ask(sock, "/0")  # the deadline moves with each request
            waited = closed_after(sock)
            assert 0.3 <= waited <= 2.0, waited


def test_a_busy_connection_outlives_the_keep_alive_timeout() -> None:
    install()
    with keep_alive_server(0.3) as url:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port)) as sock:
            time.sleep(0.2)  # idle, not yet at the deadline
            assert ask(sock, "/0.8").startswith(b"HTTP/1.1 200")  # in flight past it
            assert ask(sock, "/0").startswith(b"HTTP/1.1 200")  # and kept alive after
            assert closed_after(sock) >= 0.2


def test_shutdown_closes_idle_connections_and_finishes_busy_ones() -> None:
    install()
    with keep_alive_server(30) as url:
        parts = urlsplit(url)
        idle = socket.create_connection((parts.hostname, parts.port))
        ask(idle, "/0")
        busy = socket.create_connection((parts.hostname, parts.port))
        busy.sendall(b"GET /0.15 HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(0.05)
        # leaving the block stops the server (graceful 0.2 s): the idle connection closes at
        # once, not after its 30 s keep-alive; the busy one gets its answer first
    with idle, busy:
        assert closed_after(idle) < 1.0
        busy.settimeout(5)
        data = b""
        while chunk := busy.recv(4096):
            data += chunk
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok")


def test_a_burst_of_connections_waits_in_the_listen_queue() -> None:
    """Lynkr's listener takes a burst of connections opened at once while its loop is busy
    (hypercorn's default backlog of 100 reset the rest at 400 streams)."""
    from lynkr.config.settings import load_settings
    from lynkr.server.serve import LISTEN_BACKLOG, hypercorn_config

    settings = load_settings({"MODEL_PROVIDER": "ollama"}, env_file="/nonexistent/.env")
    config = hypercorn_config(settings, bind="127.0.0.1:0")
    assert config.backlog == LISTEN_BACKLOG >= 1024

    async def start(stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve(slow_app, config, shutdown_trigger=stop.wait, task_status=task_status)

    with run_in_thread(start, "backlog") as url:
        parts = urlsplit(url)
        first = socket.create_connection((parts.hostname, parts.port))
        first.sendall(b"GET /block HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(0.1)
        conns = []
        try:
            for _ in range(300):  # all while the loop is blocked: they wait in the queue
                sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
                sock.sendall(b"GET /0 HTTP/1.1\r\nhost: x\r\n\r\n")
                conns.append(sock)
            for sock in conns:
                data = b""
                while not data.endswith(b"\r\n\r\nok"):
                    got = sock.recv(4096)
                    assert got, "a queued connection was dropped"
                    data += got
        finally:
            first.close()
            for sock in conns:
                sock.close()
