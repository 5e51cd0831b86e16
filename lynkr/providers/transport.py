"""What every HTTP transport shares: the pooled client, and errors named for the user.

Chat providers and embeddings providers both use these, so a refused connection, a timeout or
an error status reads the same wherever it happens, and ``Retry-After`` is parsed once.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from lynkr.formats.upstream_errors import error_message
from lynkr.model.errors import (
    LynkrError,
    UpstreamTimeout,
    UpstreamUnreachable,
    from_upstream_status,
)


def make_client(*, connect_s: float, read_s: float, max_connections: int,
                keepalive_s: float) -> httpx.AsyncClient:
    timeout = httpx.Timeout(connect=connect_s, read=read_s, write=read_s, pool=connect_s)
    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_connections,
                          keepalive_expiry=keepalive_s)
    return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=True)


def reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return "connection refused" if "refused" in text.lower() or "errno 111" in text.lower() \
        else text


def transport_error(what: str, endpoint: str, exc: httpx.TransportError, silence: str
                    ) -> LynkrError:
    """The error for a request that got no answer: ``what`` names the provider, ``silence``
    says what a timeout means."""
    if isinstance(exc, httpx.ConnectError):
        return UpstreamUnreachable(f"{what} at {endpoint} is not answering ({reason(exc)}); is "
                                   f"it running, and is the endpoint right?")
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(silence)
    return UpstreamUnreachable(f"{what} at {endpoint}: {reason(exc)}")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header in seconds (an HTTP date is ignored)."""
    raw = headers.get("retry-after")
    return float(raw) if raw and raw.replace(".", "", 1).isdigit() else None


def status_error(what: str, status: int, body: bytes, headers: Mapping[str, str]
                 ) -> LynkrError:
    """The client's error for an upstream's error status, with the upstream's own message."""
    message = f"{what} answered {status}: {error_message(body)}"
    return from_upstream_status(status, message, retry_after(headers))
