"""The web box against real servers on loopback (hypercorn, trio worker): a fake SearxNG
speaking its JSON API, and a page server over HTTP and over TLS (a trustme CA).

Loopback is reachable here only because each box is given the test-only allowance
``WEB_FETCH_ALLOWED_NETWORKS=127.0.0.1/32`` (dangerous in production: docs/tools.md); names
are resolved by a table (``pages.test -> 127.0.0.1``), so a successful fetch by name proves
the request went to the checked address with the name only in Host and SNI.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trustme
from harness.fake_searxng import FakeSearxng
from harness.servers import run_in_thread, serve_asgi
from harness.web_fakes import TableResolver
from harness.web_pages import Pages

from lynkr.config.settings import Env, load_settings
from lynkr.config.web import WebSettings, web_settings
from lynkr.tools.port import ToolContext
from lynkr.tools.web import WebBox, web_box, web_client

CONTEXT = ToolContext("req-1", "session-1", "default", "", 0.0)
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)
CHUNK = b"x" * 65_536


@pytest.fixture
def pages() -> Iterator[tuple[str, Pages]]:
    site = Pages()
    with serve_asgi(site, name="pages") as url:
        site.port = int(url.rsplit(":", 1)[1])
        yield url, site


def box(resolver: TableResolver | None = None, **fields: Any) -> WebBox:
    settings = WebSettings(
        **{"allowed_networks": LOOPBACK_ONLY, "allowed_hosts": ("*",), "timeout_s": 5.0, **fields}
    )
    return WebBox(
        settings,
        web_client(settings.timeout_s),
        resolver or TableResolver({"pages.test": ["127.0.0.1"]}),
    )


async def test_a_page_by_name_goes_to_the_checked_address(pages: tuple[str, Pages]) -> None:
    _, site = pages
    outcome = await box(allowed_hosts=("pages.test",)).run(
        "web_fetch", {"url": f"http://pages.test:{site.port}/redirect"}, CONTEXT
    )
    assert not outcome.is_error, outcome.text
    assert outcome.text == (
        f"URL: http://pages.test:{site.port}/page\n"
        "Redirected 1 time(s) on the way.\n"
        "Status: 200; Content-Type: text/html; charset=iso-8859-1\n"
        "Title: Café page\n\n"
        "# Welcome\n\n"
        f"Host was pages.test:{site.port}; café.\n\n"
        f"[again](http://pages.test:{site.port}/redirect)"
    )
    assert site.hosts == [f"pages.test:{site.port}"] * 2


@pytest.mark.parametrize(
    ("path", "refusal"),
    [
        ("/to-metadata", "169.254.169.254 is a cloud metadata service"),
        ("/to-localhost", "localhost names a local or cloud-internal service"),
        ("/to-other-loopback", "127.0.0.2 is loopback"),  # the allowance is 127.0.0.1/32 only
        ("/to-decimal-loopback", "2130706433 (127.0.0.1) is"),  # allowed: same address...
    ],
)
async def test_redirects_are_checked_on_every_hop(
    pages: tuple[str, Pages], path: str, refusal: str
) -> None:
    url, site = pages
    outcome = await box().run("web_fetch", {"url": url + path}, CONTEXT)
    if path == "/to-decimal-loopback":  # ...so it is fetched: the allowance is by address
        assert not outcome.is_error and "Welcome" in outcome.text, outcome.text
        return
    assert outcome.is_error
    assert outcome.text.startswith(f"web_fetch refused {url}{path}: redirected to ")
    assert refusal in outcome.text
    assert len(site.hosts) == 1  # the refused hop was never requested


async def test_without_the_allowance_loopback_is_refused(pages: tuple[str, Pages]) -> None:
    url, site = pages
    outcome = await box(allowed_networks=()).run("web_fetch", {"url": url + "/page"}, CONTEXT)
    assert outcome.is_error and "127.0.0.1 is loopback" in outcome.text
    assert site.hosts == []


async def test_the_system_resolver_is_used_after_the_check(pages: tuple[str, Pages]) -> None:
    """With the real resolver: ``localhost`` is refused by name, its address by number."""
    url, site = pages
    web = WebBox(WebSettings(allowed_hosts=("*",)), web_client(5.0))
    by_name = await web.run("web_fetch", {"url": f"http://localhost:{site.port}/page"}, CONTEXT)
    by_number = await web.run("web_fetch", {"url": url + "/page"}, CONTEXT)
    assert "names a local or cloud-internal service" in by_name.text
    assert "127.0.0.1 is loopback" in by_number.text
    assert site.hosts == []


@attrs.define
class EndlessBody:
    """A raw HTTP/1.1 server whose body never ends (close-delimited): it counts the bytes the
    socket took before the client went away (hypercorn would drop them silently)."""

    sent: int = 0
    done: threading.Event = attrs.field(factory=threading.Event)

    async def serve(self, stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self.handle, listeners)
            task_status.started([f"http://127.0.0.1:{port}"])
            await stop.wait()
            nursery.cancel_scope.cancel()

    async def handle(self, stream: trio.SocketStream) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive_some(65_536)
            await stream.send_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n"
            )
            while self.sent < 100 * 2**20:
                await stream.send_all(CHUNK)
                self.sent += len(CHUNK)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.done.set()


def test_a_body_past_the_limit_is_cut_and_not_downloaded() -> None:
    server = EndlessBody()
    with run_in_thread(server.serve, "endless") as url:  # stopped from outside trio
        outcome = trio.run(
            box(max_bytes=200_000, max_chars=1000).run, "web_fetch", {"url": url + "/big"}, CONTEXT
        )
        assert server.done.wait(10)
    assert not outcome.is_error
    assert outcome.text.endswith(
        "[characters 0-1000 of 200000; call web_fetch with "
        "offset=1000 for more]\n[only the first 200000 bytes were "
        "read (WEB_FETCH_MAX_BYTES)]"
    )
    # what the kernel buffered on both sides of the loopback, not the 100 MiB body
    assert server.sent < 20 * 2**20, server.sent


async def test_a_page_that_never_comes_is_stopped_at_the_time_limit(
    pages: tuple[str, Pages],
) -> None:
    url, _ = pages
    outcome = await box(timeout_s=0.5).run("web_fetch", {"url": url + "/slow"}, CONTEXT)
    assert outcome.is_error
    assert outcome.text == "web_fetch was stopped after 0.5 s (WEB_SEARCH_TIMEOUT_MS)"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/image", "the content type is image/png, not text"),
        ("/missing", "web_fetch got HTTP 404"),
        ("/loop", "more than 5 redirects"),
    ],
)
async def test_failures_are_tool_errors(pages: tuple[str, Pages], path: str, text: str) -> None:
    url, _ = pages
    outcome = await box().run("web_fetch", {"url": url + path}, CONTEXT)
    assert outcome.is_error and text in outcome.text, outcome.text


# -- TLS: the certificate is checked against the name, the connection goes to the address --


@pytest.fixture
def tls_pages(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext, Pages]]:
    ca = trustme.CA()
    ca.issue_cert("pages.test").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    site = Pages()
    with serve_asgi(site, name="tls-pages", certfile=str(tmp_path / "server.pem")) as url:
        site.port = int(url.rsplit(":", 1)[1])
        yield site.port, trusting, site


async def test_https_by_name_verifies_the_certificate_for_the_name(
    tls_pages: tuple[int, ssl.SSLContext, Pages],
) -> None:
    port, trusting, site = tls_pages
    resolver = TableResolver({"pages.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    settings = WebSettings(allowed_networks=LOOPBACK_ONLY, allowed_hosts=("*",))
    web = WebBox(settings, web_client(5.0, verify=trusting), resolver)
    good = await web.run("web_fetch", {"url": f"https://pages.test:{port}/page"}, CONTEXT)
    wrong = await web.run("web_fetch", {"url": f"https://other.test:{port}/page"}, CONTEXT)
    assert not good.is_error and f"Host was pages.test:{port}" in good.text, good.text
    assert wrong.is_error and "certificate" in wrong.text.lower(), wrong.text
    assert site.hosts == [f"pages.test:{port}"]


# -- web_search against the fake SearxNG ---------------------------------------------------


@pytest.fixture
def searxng() -> Iterator[tuple[str, FakeSearxng]]:
    fake = FakeSearxng()
    with serve_asgi(fake, name="searxng") as url:
        yield url + "/search", fake


async def test_search_asks_for_json_and_writes_the_results(
    searxng: tuple[str, FakeSearxng],
) -> None:
    endpoint, fake = searxng
    outcome = await box(search_endpoint=endpoint).run(
        "web_search", {"query": "  ssrf python ", "limit": 2}, CONTEXT
    )
    assert fake.queries == [{"q": ["ssrf python"], "format": ["json"]}]
    assert not outcome.is_error
    assert outcome.text == (
        "Web results for 'ssrf python' (top 2, about 48100 in all):\n"
        "1. ipaddress — IPv4/IPv6 manipulation library — Python 3 documentation\n"
        "   https://docs.python.org/3/library/ipaddress.html\n"
        "   The ipaddress module provides the capabilities to create, manipulate and operate "
        "on IPv4 and IPv6 addresses and networks.\n"
        "2. Server-side request forgery - Wikipedia\n"
        "   https://en.wikipedia.org/wiki/Server-side_request_forgery\n"
        "   published 2026-03-01T00:00:00\n"
        "   In computer security, server-side request forgery (SSRF) is a type of exploit "
        "where an attacker abuses the functionality of a server...\n"
        "Related searches: ssrf prevention python; dns rebinding\n"
        "Engines that did not answer: google"
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"formats": ("html",)},
            "the search service refused the JSON format (403): a SearxNG "
            "instance needs `json` under `search: formats:` in its "
            "settings.yml",
        ),
        ({"status": 502}, "the search service answered HTTP 502"),
        ({"results": []}, None),
    ],
)
async def test_search_failures_say_why(
    searxng: tuple[str, FakeSearxng], change: dict[str, Any], error: str | None
) -> None:
    endpoint, fake = searxng
    for key, value in change.items():
        setattr(fake, key, value)
    outcome = await box(search_endpoint=endpoint).run("web_search", {"query": "x"}, CONTEXT)
    if error is None:
        assert outcome == type(outcome)(
            "No web results for 'x'.\nEngines that did not answer: google"
        )
        return
    assert outcome.is_error and outcome.text == f"web_search failed: {error}"


async def test_a_search_that_hangs_is_stopped(searxng: tuple[str, FakeSearxng]) -> None:
    endpoint, fake = searxng
    fake.hang = True
    outcome = await box(search_endpoint=endpoint, timeout_s=0.5).run(
        "web_search", {"query": "x"}, CONTEXT
    )
    assert outcome.is_error and "stopped after 0.5 s" in outcome.text


async def test_a_search_endpoint_that_is_down_is_a_tool_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}/search"
    outcome = await box(search_endpoint=endpoint).run("web_search", {"query": "x"}, CONTEXT)
    assert outcome.is_error and "could not be reached: ConnectError" in outcome.text


# -- from the environment ------------------------------------------------------------------


async def test_the_environment_builds_the_box(
    searxng: tuple[str, FakeSearxng], pages: tuple[str, Pages]
) -> None:
    endpoint, _ = searxng
    url, _ = pages
    settings = load_settings(
        environ={"WEB_SEARCH_ENDPOINT": endpoint, "WEB_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32"},
        env_file="/nonexistent/.env",
    )
    web = web_box(settings)
    assert web is not None
    assert [t.name for t in web.tools()] == ["web_search", "web_fetch"]
    assert web_settings(Env(settings.environ)).allowed_networks == LOOPBACK_ONLY
    searched = await web.run("web_search", {"query": "ssrf"}, CONTEXT)
    fetched = await web.run("web_fetch", {"url": url + "/page"}, CONTEXT)
    assert "1. ipaddress" in searched.text and "# Welcome" in fetched.text
    assert web_box(load_settings(environ={}, env_file="/nonexistent/.env")) is None
