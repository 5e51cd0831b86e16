"""``web_fetch``: one page over HTTP(S), every hop through the SSRF guard, within bounds.

Assumes: an ``httpx.AsyncClient`` that does not follow redirects, trusts no proxy settings
from the environment and keeps no connections alive (``web_client``), and a ``Resolver``.
Guarantees: each hop (the first URL and every redirect) is checked by the guard after name
resolution and sent to the checked address itself (the host's name travels only in the
``Host`` header and as TLS SNI, so certificates are still verified against the name); at
most ``max_redirects`` redirects are followed; at most ``max_bytes`` of body are read (the
rest is never downloaded); only text media types are read.
Never: sends cookies, credentials or the client's headers; retries.
"""

from __future__ import annotations

import ssl

import attrs
import httpx

from lynkr.tools.web.body import BodyError, Collector, charset, decode, kind, looks_binary
from lynkr.tools.web.guard import Policy, Refused, Resolver, Target, check, parse_url

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Lynkr-web_fetch/1 (a self-hosted LLM proxy fetching for its model)"
ACCEPT = (
    "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,text/*;q=0.8,*/*;q=0.1"
)


class FetchError(Exception):
    """A fetch that failed; the message says why, for the model to read."""


@attrs.frozen
class Limits:
    max_bytes: int = 2_000_000
    max_redirects: int = 5


@attrs.frozen
class Fetched:
    """A body as read: ``final_url`` after redirects; ``kind`` is ``html`` or ``text``."""

    final_url: str
    status: int
    content_type: str
    kind: str
    text: str
    truncated: bool  # the body went on past max_bytes
    redirects: tuple[str, ...] = ()


def web_client(timeout_s: float, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The client web tools send with: no redirects followed, no proxy taken from the
    environment (a proxy would resolve names itself), no connection kept for another host."""
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        verify=verify,
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=0),
    )


async def fetch(
    client: httpx.AsyncClient, raw_url: str, policy: Policy, resolver: Resolver, limits: Limits
) -> Fetched:
    """``raw_url``'s body as text, or ``Refused`` / ``FetchError`` saying why not."""
    url = parse_url(raw_url)
    redirects: list[str] = []
    while True:
        try:
            target = await check(url, policy, resolver)
        except Refused as exc:
            if redirects:
                raise Refused(f"redirected to {url}: {exc}") from None
            raise
        response = await _send(client, target)
        try:
            location = response.headers.get("location")
            if response.status_code not in REDIRECTS or not location:
                return await _read(response, target, limits, tuple(redirects))
        finally:
            await response.aclose()
        if len(redirects) >= limits.max_redirects:
            raise FetchError(f"more than {limits.max_redirects} redirects (last to {location})")
        try:
            url = parse_url(str(url.join(location)))
        except Refused as exc:
            raise Refused(f"redirected to {location}: {exc}") from None
        redirects.append(str(url))


async def _send(client: httpx.AsyncClient, target: Target) -> httpx.Response:
    """The request to the checked address, trying its next checked address when one refuses
    the connection."""
    failure: httpx.HTTPError | None = None
    for address in target.addresses:
        request = client.build_request(
            "GET",
            target.url_at(address),
            headers={
                "Host": target.host_header,
                "User-Agent": USER_AGENT,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            extensions={"sni_hostname": target.url.raw_host.decode("ascii")},
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            failure = exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{target.url.host}: {_describe(exc)}") from None
    assert failure is not None
    raise FetchError(f"could not connect to {target.url.host}: {_describe(failure)}")


async def _read(
    response: httpx.Response, target: Target, limits: Limits, redirects: tuple[str, ...]
) -> Fetched:
    content_type = response.headers.get("content-type", "")
    try:
        body_kind = kind(content_type)
        collector = Collector.for_encoding(
            response.headers.get("content-encoding", ""), limits.max_bytes
        )
        async for chunk in response.aiter_raw():
            if not collector.feed(chunk):
                break  # the rest of the body is never read: the connection is closed
    except BodyError as exc:
        raise FetchError(f"{target.url}: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{target.url}: the body broke off: {_describe(exc)}") from None
    body = collector.body
    if not content_type and looks_binary(body):
        raise FetchError(f"{target.url}: the body is binary, not text")
    text = decode(body, charset(content_type, body, html=body_kind == "html"))
    return Fetched(
        str(target.url),
        response.status_code,
        content_type,
        body_kind,
        text,
        collector.truncated,
        redirects,
    )


def _describe(exc: BaseException) -> str:
    """The error's type and its message, with the causes' (a TLS failure arrives as a
    ConnectError wrapping the certificate error)."""
    messages: list[str] = []
    cause: BaseException | None = exc
    while cause is not None and len(messages) < 3:
        if str(cause) and str(cause) not in messages:
            messages.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return f"{type(exc).__name__}: {'; '.join(messages)}" if messages else type(exc).__name__
