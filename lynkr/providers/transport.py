"""What every HTTP transport shares: the pooled client, and errors named for the user.

Chat providers and embeddings providers both use these, so a refused connection, a timeout or
an error status reads the same wherever it happens, and ``Retry-After`` is parsed once.
Messages name the provider, never its URL (a client must not learn it), and never a secret:
error bodies are read up to a bound (``read_error_body``) and scrubbed by the caller's
``Scrubber``. A wait for a pooled connection is ``PoolBusy``: local back-pressure, not a
provider fault.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.request import getproxies

import httpx
from httpx import _utils as httpx_utils

from lynkr.formats.upstream_errors import error_message
from lynkr.model.errors import (
    LynkrError,
    PoolBusy,
    UpstreamTimeout,
    UpstreamUnreachable,
    from_upstream_status,
)
from lynkr.providers.lean_transport import LeanTransport

log = logging.getLogger("lynkr.providers")


def make_client(*, connect_s: float, read_s: float, max_connections: int,
                keepalive_s: float, pool_s: float | None = None,
                lean: bool = False) -> httpx.AsyncClient:
    """The pooled client; ``lean``: under the lean transport (``UPSTREAM_TRANSPORT``), else
    httpcore's. A proxy from the environment is httpx's own transport either way."""
    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s,
                            pool=connect_s if pool_s is None else pool_s)
    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections,
                          keepalive_expiry=keepalive_s)
    if not lean:
        return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=True)
    # httpx reads proxies from the environment only for a client without a transport of its
    # own: mounted here as httpx would mount them (NO_PROXY hosts stay on the lean transport)
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {
        pattern: None if proxy is None else httpx.AsyncHTTPTransport(proxy=proxy, limits=limits)
        for pattern, proxy in environment_proxies().items()}
    return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=True, mounts=mounts,
                             transport=LeanTransport(max_connections=max_connections,
                                                     keepalive_s=keepalive_s))


def environment_proxies() -> dict[str, str | None]:
    """``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` as httpx's mount patterns
    (a pattern mapped to None goes without a proxy), read the way httpx reads them."""
    read = getattr(httpx_utils, "get_environment_proxies", None)
    if read is None:  # a later httpx moved it: say so rather than drop a proxy silently
        if getproxies():
            log.warning("a proxy is set in the environment but this httpx does not say how to "
                        "read it; set UPSTREAM_TRANSPORT=httpx to use it")
        return {}
    proxies: dict[str, str | None] = read()
    return proxies


def reason(exc: Exception) -> str:
    """Why a connection failed, without the address (a client must not learn it)."""
    text = str(exc).lower()
    if "refused" in text or "errno 111" in text or "all attempts to connect" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text \
            or "name resolution" in text:
        return "its host name does not resolve"
    return type(exc).__name__


def transport_error(what: str, exc: httpx.TransportError, silence: str,
                    pool_s: float | None = None) -> LynkrError:
    """The error for a request that got no answer: ``what`` names the provider, ``silence``
    says what a timeout means, ``pool_s`` how long a pooled connection was waited for."""
    if isinstance(exc, httpx.ConnectError):
        return UpstreamUnreachable(f"{what} is not answering ({reason(exc)}); is it running, "
                                   f"and is its endpoint setting right?")
    if isinstance(exc, httpx.PoolTimeout):
        wait = pool_s or 0.0
        return PoolBusy(f"{what}: no upstream connection came free within {wait:g}s "
                        f"(UPSTREAM_MAX_CONNECTIONS, UPSTREAM_POOL_TIMEOUT_MS)",
                        retry_after=max(1.0, wait))
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(silence)
    return UpstreamUnreachable(f"{what}: {reason(exc)}")


async def read_error_body(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of an error body (its message is near the start; an endless
    one must not be read whole)."""
    chunks, size = [], 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    except httpx.HTTPError:
        return b"(no body)"
    return b"".join(chunks)[:limit]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header in seconds (an HTTP date is ignored)."""
    raw = headers.get("retry-after")
    return float(raw) if raw and raw.replace(".", "", 1).isdigit() else None


def status_error(what: str, status: int, body: bytes, headers: Mapping[str, str],
                 scrub: Callable[[str], str] = str) -> LynkrError:
    """The client's error for an upstream's error status, with the upstream's own message
    (``scrub``: what removes the secrets it may echo)."""
    message = f"{what} answered {status}: {scrub(error_message(body))}"
    return from_upstream_status(status, message, retry_after(headers))
