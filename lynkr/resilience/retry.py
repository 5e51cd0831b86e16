"""When to retry an upstream call, and how long to wait: exponential backoff with full jitter,
honouring ``Retry-After``. Only before the first byte reached the client (the caller's rule).
"""

from __future__ import annotations

import random

import attrs

from lynkr.model.errors import (
    CircuitOpen,
    LynkrError,
    Overloaded,
    PoolBusy,
    RateLimited,
    Shedding,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)

# Lynkr's own refusals, overloads of a kind but no provider's doing
_LOCAL = (PoolBusy, CircuitOpen, Shedding)


def is_retryable(error: LynkrError) -> bool:
    """Connect errors, timeouts, 429, 5xx and overload; never a 4xx about the request, the
    proxy's own key refused upstream (``UpstreamAuthRejected``), or a local pool wait."""
    if isinstance(error, _LOCAL):
        return False
    return isinstance(error, (UpstreamUnreachable, UpstreamTimeout, RateLimited, Overloaded)) \
        or type(error) is UpstreamError


def counts_against_breaker(error: LynkrError) -> bool:
    """What the provider is to blame for: connect errors, timeouts, 5xx, overload. Not 429
    (back-pressure), a 4xx, the proxy's own key refused, or a wait for a local connection."""
    if isinstance(error, _LOCAL):
        return False
    return isinstance(error, (UpstreamUnreachable, UpstreamTimeout, Overloaded)) \
        or type(error) is UpstreamError


@attrs.frozen
class RetryPolicy:
    max_retries: int = 3
    initial_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def delay(self, attempt: int, error: LynkrError, rng: random.Random) -> float:
        """The wait before retry number ``attempt`` (1-based)."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_delay_s)
        ceiling = min(self.initial_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        return rng.uniform(0, ceiling)
