"""Errors a client can be told about, each with its HTTP status and both dialects' types.

    LynkrError                      500 api_error              / server_error
    ├── BadRequest                  400 invalid_request_error  / invalid_request_error
    │   ├── PayloadTooLarge         413 request_too_large      / invalid_request_error
    │   └── BodyTimeout             408 invalid_request_error  / invalid_request_error
    ├── Unauthorized                401 authentication_error   / invalid_request_error
    ├── PermissionDenied            403 permission_error       / permission_error
    ├── NotFound                    404 not_found_error        / not_found_error
    │   └── MethodNotAllowed        405 invalid_request_error  / invalid_request_error
    ├── RateLimited                 429 rate_limit_error       / rate_limit_error
    │   └── BudgetSpent             429 rate_limit_error       / insufficient_quota
    ├── NotImplementedHere          501 api_error              / not_implemented
    │   └── EmbeddingsUnavailable   501 api_error              / not_implemented
    ├── Overloaded                  529 overloaded_error       / server_error (503 for OpenAI)
    │   ├── PoolBusy                529 overloaded_error       / server_error (503 for OpenAI)
    │   ├── CircuitOpen             503 overloaded_error       / server_error
    │   └── Shedding                503 overloaded_error       / server_error, code overloaded
    └── UpstreamError               502 api_error              / server_error
        ├── UpstreamUnreachable     502 api_error              / server_error
        ├── UpstreamTimeout         504 timeout_error          / timeout
        ├── UpstreamAuthRejected    502 api_error              / server_error
        └── FrameTooLarge           502 api_error              / server_error

An ``UpstreamError`` may carry the upstream's own status; ``from_upstream_status`` picks the
class that answers the client for it (429 stays 429, 5xx becomes api_error, ...). Start-up
mistakes are not in this tree: ``SettingsError`` and ``PipelineError`` stop ``lynkr`` with a
one-line message before any client is served.
"""

from __future__ import annotations


class LynkrError(Exception):
    status = 500
    anthropic_type = "api_error"
    openai_type = "server_error"
    openai_code: str | None = None  # OpenAI's ``error.code``

    def __init__(self, message: str, *, retry_after: float | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.headers = headers or []  # more response headers (rate-limit state)


class BadRequest(LynkrError):
    status = 400
    anthropic_type = "invalid_request_error"
    openai_type = "invalid_request_error"


class PayloadTooLarge(BadRequest):
    status = 413
    anthropic_type = "request_too_large"


class BodyTimeout(BadRequest):
    """The client did not send its whole body in time (a slow or stalled upload)."""

    status = 408


class Unauthorized(LynkrError):
    status = 401
    anthropic_type = "authentication_error"
    openai_type = "invalid_request_error"


class PermissionDenied(LynkrError):
    status = 403
    anthropic_type = "permission_error"
    openai_type = "permission_error"


class NotFound(LynkrError):
    status = 404
    anthropic_type = "not_found_error"
    openai_type = "not_found_error"


class MethodNotAllowed(NotFound):
    status = 405
    anthropic_type = "invalid_request_error"
    openai_type = "invalid_request_error"


class RateLimited(LynkrError):
    status = 429
    anthropic_type = "rate_limit_error"
    openai_type = "rate_limit_error"


class BudgetSpent(RateLimited):
    """A key's or a session's budget is spent until its window resets: OpenAI's quota error
    (``insufficient_quota``), and ``x-should-retry: false`` so SDKs do not retry it."""

    openai_type = "insufficient_quota"
    openai_code = "insufficient_quota"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after,
                         headers=[(b"x-should-retry", b"false")])


class NotImplementedHere(LynkrError):
    """A feature this server is not configured for (e.g. embeddings without a provider)."""

    status = 501
    openai_type = "not_implemented"


class EmbeddingsUnavailable(NotImplementedHere):
    """Embeddings are not configured, or the local provider's package is not installed."""


class Overloaded(LynkrError):
    status = 529
    anthropic_type = "overloaded_error"


class PoolBusy(Overloaded):
    """No pooled upstream connection freed up in time: local back-pressure, not a provider
    fault (never retried, never counted by the breaker)."""


class CircuitOpen(Overloaded):
    """Raised instead of calling a provider whose breaker is open (a 503 if nothing else)."""

    status = 503


class Shedding(Overloaded):
    """Lynkr itself refuses new work for now (load shedding, shutting down)."""

    status = 503
    openai_code = "overloaded"


class UpstreamError(LynkrError):
    status = 502


class UpstreamUnreachable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    status = 504
    anthropic_type = "timeout_error"
    openai_type = "timeout"


class UpstreamAuthRejected(UpstreamError):
    """The upstream refused the proxy's own credentials (401/403): a configuration error that
    no retry or breaker can mend."""


class FrameTooLarge(UpstreamError):
    """An upstream line or frame beyond the configured limit (``UPSTREAM_MAX_LINE_BYTES``)."""


def from_upstream_status(status: int, message: str, retry_after: float | None = None) -> LynkrError:
    """The error a client gets for an upstream's HTTP error status."""
    if status == 429:
        return RateLimited(message, retry_after=retry_after)
    if status in (503, 529):
        return Overloaded(message, retry_after=retry_after)
    if status in (408, 504):
        return UpstreamTimeout(message)
    if status == 413:
        return PayloadTooLarge(message)
    if status in (401, 403):
        # The client's own key is not what failed: the proxy's upstream credentials are.
        return UpstreamAuthRejected(
            f"{message} (the proxy's own credentials for this provider were rejected: check "
            f"its API key setting)")
    if status == 404:
        return NotFound(message)
    if 400 <= status < 500:
        return BadRequest(message)
    return UpstreamError(message)
