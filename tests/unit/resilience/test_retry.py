"""Which upstream errors are retried, and the backoff."""

import random

import pytest

from lynkr.model.errors import (
    BadRequest,
    NotFound,
    Overloaded,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from lynkr.resilience import RetryPolicy, is_retryable
from lynkr.resilience.retry import counts_against_breaker


@pytest.mark.parametrize(("error", "retry", "blame"), [
    (UpstreamUnreachable("x"), True, True),
    (UpstreamTimeout("x"), True, True),
    (UpstreamError("x"), True, True),
    (Overloaded("x"), True, True),
    (RateLimited("x"), True, False),
    (BadRequest("x"), False, False),
    (NotFound("x"), False, False),
])
def test_retry_and_blame_table(error: Exception, retry: bool, blame: bool) -> None:
    assert is_retryable(error) is retry
    assert counts_against_breaker(error) is blame


def test_backoff_grows_exponentially_within_full_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, initial_delay_s=1.0, max_delay_s=4.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)]:
        waits = [policy.delay(attempt, UpstreamError("x"), rng) for _ in range(200)]
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > ceiling * 0.8  # the jitter really spans the range


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(max_delay_s=10.0)
    rng = random.Random(0)
    assert policy.delay(1, RateLimited("x", retry_after=3), rng) == 3
    assert policy.delay(1, RateLimited("x", retry_after=60), rng) == 10
