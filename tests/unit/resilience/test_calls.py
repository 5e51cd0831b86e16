"""Retries and the breaker around opening an upstream call, on trio's virtual clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from lynkr.model.errors import BadRequest, LynkrError, RateLimited, UpstreamUnreachable
from lynkr.resilience import CircuitBreaker, CircuitOpen, RetryPolicy
from lynkr.resilience.calls import open_with_retry


class Upstream:
    """Fails with the given errors, in order, then opens."""

    def __init__(self, *errors: LynkrError) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.closed = 0

    @asynccontextmanager
    async def open(self) -> AsyncIterator[str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        try:
            yield "stream"
        finally:
            self.closed += 1


async def test_retries_then_succeeds_with_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    upstream = Upstream(UpstreamUnreachable("down"), RateLimited("slow", retry_after=5))
    breaker = CircuitBreaker("p", failure_threshold=5)
    waits: list[float] = []
    started = trio.current_time()
    async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=3),
                               rng=random.Random(1),
                               on_retry=lambda n, e, d: waits.append(d)) as stream:
        assert stream == "stream"
    assert upstream.calls == 3 and upstream.closed == 1
    assert waits[1] == 5  # Retry-After honoured
    assert trio.current_time() - started == pytest.approx(sum(waits))
    assert breaker.failures == 0  # the success reset it; the 429 never counted


async def test_gives_up_after_max_retries_with_the_last_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    upstream = Upstream(*(UpstreamUnreachable(f"down {i}") for i in range(5)))
    with pytest.raises(UpstreamUnreachable, match="down 2"):
        async with open_with_retry(upstream.open, CircuitBreaker("p"),
                                   RetryPolicy(max_retries=2), rng=random.Random(0)):
            pass
    assert upstream.calls == 3


async def test_a_bad_request_is_never_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    upstream = Upstream(BadRequest("no"))
    with pytest.raises(BadRequest):
        async with open_with_retry(upstream.open, CircuitBreaker("p"), RetryPolicy(),
                                   rng=random.Random(0)):
            pass
    assert upstream.calls == 1


async def test_open_breaker_fails_fast_then_half_open_lets_a_probe_through(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=2, success_threshold=1, timeout_s=30)
    upstream = Upstream(UpstreamUnreachable("a"), UpstreamUnreachable("b"))
    with pytest.raises(CircuitOpen):
        async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=5),
                                   rng=random.Random(0)):
            pass
    assert upstream.calls == 2  # the third attempt met the open breaker, not the provider
    await trio.sleep(31)
    async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=0),
                               rng=random.Random(0)) as stream:
        assert stream == "stream"
    assert breaker.state.value == "closed"
