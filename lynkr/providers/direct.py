"""An upstream call without httpx's client layer: the request's bytes straight to the lean
transport.

httpx's client costs tens of microseconds a request (merging headers, the auth, redirect and
cookie wrappers, building a ``Request`` and a ``Response``); the lean transport under it needs
only the request's bytes. ``DirectRoute`` writes the bytes httpx would write for the same call
(Host, the client's default headers updated with the call's in httpx's order, a cookie from the
client's jar, Content-Length, the body) from a header block computed once per distinct set of
call headers, and hands them to ``LeanTransport.exchange``.

Assumes: the client is not changed after its first call (headers, timeouts, mounts).
Guarantees: a route exists only where httpx would send through the lean transport itself, with
nothing of the client's in between: no proxy from the environment for the URL, no auth, event
hooks, query params; the call's headers name none of Host, Content-Length, Transfer-Encoding,
Cookie, and the body is not empty (``request`` is None otherwise, and the caller goes through
httpx). Cookies the upstream sets go into the client's jar, as httpx's client does. Timeouts,
the pool and the retry of a dead reused connection are the transport's, as through httpx.
Never: sends a header httpx would not send, in another order or spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from lynkr.providers.h1_codec import Head
from lynkr.providers.lean_transport import LeanBody, LeanTransport, Timeouts

MAX_HEADER_SETS = 64  # distinct call header sets kept per route (anthropic-beta varies)
_OWN = frozenset({"host", "content-length", "transfer-encoding", "cookie"})


def direct_route(client: httpx.AsyncClient, target: str) -> DirectRoute | None:
    """The direct route to ``target`` through ``client`` (None: go through httpx)."""
    url = httpx.URL(target)
    if url.scheme not in ("http", "https") or not url.host:
        return None
    transport = client._transport_for_url(url)  # a proxy from the environment is another one
    if not isinstance(transport, LeanTransport):
        return None
    if client.auth is not None or client.params or any(client.event_hooks.values()):
        return None
    return DirectRoute(client, url, transport)


class DirectRoute:
    """POST requests to one URL through one client's lean transport."""

    def __init__(self, client: httpx.AsyncClient, url: httpx.URL,
                 transport: LeanTransport) -> None:
        self._client = client
        self._url = url
        self._transport = transport
        self._origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        self._line = b"POST " + url.raw_path + b" HTTP/1.1\r\nHost: " + url.netloc + b"\r\n"
        timeout = client.timeout
        self._timeouts = Timeouts(timeout.connect, timeout.read, timeout.write, timeout.pool)
        self._blocks: dict[tuple[tuple[str, str], ...], bytes | None] = {}

    def request(self, headers: Mapping[str, str], body: bytes) -> bytes | None:
        """The whole request's bytes, as httpx would write them (None: leave it to httpx)."""
        block = self._block(headers)
        if block is None or not body or self._client.is_closed:
            return None
        cookie = self._cookie() if self._client.cookies else b""
        return b"".join((block, cookie, b"Content-Length: %d\r\n\r\n" % len(body), body))

    async def exchange(self, data: bytes) -> tuple[Head, LeanBody]:
        """``data`` sent, the answer's head read: httpx's exception classes on failure."""
        head, body = await self._transport.exchange(self._origin, b"POST", data,
                                                    self._timeouts)
        if any(name == b"set-cookie" for name, _ in head.headers):
            self._client.cookies.extract_cookies(self.response(head, body))
        return head, body

    def response(self, head: Head, body: LeanBody) -> httpx.Response:
        """``head`` and ``body`` as httpx's client would have returned them (for what is read
        through httpx: an error body, an encoded body, cookies)."""
        return httpx.Response(head.status, headers=list(head.headers), stream=body,
                              extensions={"http_version": b"HTTP/1.1",
                                          "reason_phrase": head.reason, "lean_body": body},
                              request=httpx.Request("POST", self._url))

    def _block(self, headers: Mapping[str, str]) -> bytes | None:
        key = tuple(headers.items())
        try:
            return self._blocks[key]
        except KeyError:
            pass
        merged = httpx.Headers(self._client.headers)  # what build_request does, once
        merged.update(headers)
        block = None if any(k in _OWN for k in merged) else self._line + b"".join(
            name + b": " + value + b"\r\n" for name, value in merged.raw)
        if len(self._blocks) >= MAX_HEADER_SETS:
            self._blocks.clear()
        self._blocks[key] = block
        return block

    def _cookie(self) -> bytes:
        probe = httpx.Request("POST", self._url)
        self._client.cookies.set_cookie_header(probe)
        for name, value in probe.headers.raw:  # as httpx adds it: after the others
            if name.lower() == b"cookie":
                return name + b": " + value + b"\r\n"
        return b""
