"""When to retry an upstream call, and how long to wait: exponential backoff with full jitter,
honouring ``Retry-After``. Only before the first byte reached the client (the caller's rule).
"""

from __future__ import annotations

import random

import attrs

from lynkr.model.errors import (
    LynkrError,
    Overloaded,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)


def is_retryable(error: LynkrError) -> bool:
    """Connect errors, timeouts, 429, 5xx and overload; never a 4xx about the request."""
    return isinstance(error, (UpstreamUnreachable, UpstreamTimeout, RateLimited, Overloaded)) \
        or type(error) is UpstreamError


def counts_against_breaker(error: LynkrError) -> bool:
    """What the provider is to blame for (429 is back-pressure, not a fault)."""
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
