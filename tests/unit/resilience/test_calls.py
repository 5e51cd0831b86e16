"""Retries and the breaker around opening an upstream call, on trio's virtual clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    PoolBusy,
    RateLimited,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamUnreachable,
    from_upstream_status,
)
from lynkr.resilience import BreakerState, CircuitBreaker, CircuitOpen, RetryPolicy
from lynkr.resilience.calls import open_with_retry


class Upstream:
    """Fails with the given errors, in order, then opens."""

    def __init__(self, *errors: LynkrError, delay: float = 0.0) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.closed = 0
        self.delay = delay

    @asynccontextmanager
    async def open(self) -> AsyncIterator[str]:
        self.calls += 1
        await trio.sleep(self.delay)
        if self.errors:
            raise self.errors.pop(0)
        try:
            yield "stream"
        finally:
            self.closed += 1


async def attempt(upstream: Upstream, breaker: CircuitBreaker, retries: int = 3,
                  **kwargs: object) -> str:
    async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=retries),
                               rng=random.Random(0), **kwargs) as (stream, _first):
        return str(stream)


async def test_retries_then_succeeds_with_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    upstream = Upstream(UpstreamUnreachable("down"), RateLimited("slow", retry_after=5))
    breaker = CircuitBreaker("p", failure_threshold=5)
    waits: list[float] = []
    started = trio.current_time()
    async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=3),
                               rng=random.Random(1),
                               on_retry=lambda n, e, d: waits.append(d)) as (stream, _):
        assert stream == "stream"
    assert upstream.calls == 3 and upstream.closed == 1
    assert waits[1] == 5  # Retry-After honoured
    assert trio.current_time() - started == pytest.approx(sum(waits))
    assert breaker.failures == 0


async def test_gives_up_after_max_retries_with_the_last_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    upstream = Upstream(*(UpstreamUnreachable(f"down {i}") for i in range(5)))
    with pytest.raises(UpstreamUnreachable, match="down 2"):
        await attempt(upstream, CircuitBreaker("p"), retries=2)
    assert upstream.calls == 3


async def test_one_client_request_is_one_failure_whatever_its_retries(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Four 500s for one request (default 3 retries) must not trip a threshold of 5."""
    breaker = CircuitBreaker("p", failure_threshold=5)
    upstream = Upstream(*(UpstreamError(f"500 #{i}") for i in range(4)))
    with pytest.raises(UpstreamError):
        await attempt(upstream, breaker)
    assert upstream.calls == 4
    assert (breaker.failures, breaker.state) == (1, BreakerState.CLOSED)
    for _ in range(4):  # five failed requests in a row do open it
        with pytest.raises(UpstreamError):
            await attempt(Upstream(*(UpstreamError("500") for _ in range(4))), breaker)
    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize("error", [
    BadRequest("no"),
    from_upstream_status(401, "anthropic answered 401: invalid x-api-key"),
    from_upstream_status(403, "anthropic answered 403: forbidden"),
    PoolBusy("no pooled connection free within 5s", retry_after=1),
])
async def test_not_retried_and_not_counted(
    autojump_clock: trio.testing.MockClock, error: LynkrError,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=1)
    upstream = Upstream(error)
    with pytest.raises(type(error)):
        await attempt(upstream, breaker)
    assert upstream.calls == 1
    assert (breaker.failures, breaker.state) == (0, BreakerState.CLOSED)


def test_the_proxys_own_key_refused_is_said_plainly() -> None:
    error = from_upstream_status(401, "openai answered 401: Incorrect API key")
    assert isinstance(error, UpstreamAuthRejected) and error.status == 502
    assert "proxy's own credentials" in error.message


async def test_rate_limits_are_retried_but_never_counted(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=1)
    upstream = Upstream(*(RateLimited("429") for _ in range(4)))
    with pytest.raises(RateLimited):
        await attempt(upstream, breaker)
    assert upstream.calls == 4 and breaker.state is BreakerState.CLOSED


async def test_a_failed_first_read_is_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reads: list[str] = []

    async def first_read(stream: str) -> str:
        reads.append(stream)
        if len(reads) == 1:
            raise UpstreamError("overloaded frame before any content")
        return "first events"

    upstream = Upstream()
    breaker = CircuitBreaker("p", failure_threshold=1)
    async with open_with_retry(upstream.open, breaker, RetryPolicy(max_retries=1),
                               rng=random.Random(0), first_read=first_read) as (_, first):
        assert first == "first events"
    assert upstream.calls == 2 and upstream.closed == 2  # the failed one was closed too
    assert breaker.state is BreakerState.CLOSED


async def test_open_breaker_fails_fast_then_half_open_lets_a_probe_through(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=2, success_threshold=1, timeout_s=30)
    for _ in range(2):
        with pytest.raises(UpstreamUnreachable):
            await attempt(Upstream(UpstreamUnreachable("a")), breaker, retries=0)
    upstream = Upstream()
    with pytest.raises(CircuitOpen):
        await attempt(upstream, breaker)
    assert upstream.calls == 0  # met the open breaker, not the provider
    await trio.sleep(31)
    assert await attempt(upstream, breaker) == "stream"
    assert breaker.state is BreakerState.CLOSED


async def test_half_open_lets_exactly_one_concurrent_request_through(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, success_threshold=1, timeout_s=10)
    breaker.record_failure(trio.current_time())
    await trio.sleep(11)
    upstream = Upstream(delay=2.0)  # the probe takes a while
    outcomes: list[str] = []

    async def one() -> None:
        try:
            outcomes.append(await attempt(upstream, breaker))
        except CircuitOpen:
            outcomes.append("fast 503")

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(one)
    assert upstream.calls == 1
    assert sorted(outcomes) == ["fast 503"] * 19 + ["stream"]
    assert breaker.state is BreakerState.CLOSED


async def test_a_probe_cancelled_by_its_client_frees_the_slot(
    autojump_clock: trio.testing.MockClock,
) -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, timeout_s=10)
    breaker.record_failure(trio.current_time())
    await trio.sleep(11)
    with trio.move_on_after(1):  # the client disconnects during the probe
        await attempt(Upstream(delay=5.0), breaker)
    assert breaker.state is BreakerState.HALF_OPEN and breaker.probe_since is None
    assert await attempt(Upstream(), breaker) == "stream"  # the next request may probe


class Board:
    """A ``BreakerBoard`` in memory: what other processes published, and what this one did."""

    def __init__(self, opened: tuple[int, float] | None = None) -> None:
        self.trip = opened
        self.published: list[tuple[str, int, float]] = []

    async def opened(self, provider: str) -> tuple[int, float] | None:
        return self.trip

    def publish(self, provider: str, failures: int, open_for_s: float) -> None:
        self.published.append((provider, failures, open_for_s))


async def test_a_trip_is_published_and_a_recovery_too(
        autojump_clock: trio.testing.MockClock) -> None:
    board = Board()
    breaker = CircuitBreaker("p", failure_threshold=2, success_threshold=1, timeout_s=30)
    for _ in range(2):
        with pytest.raises(UpstreamUnreachable):
            await attempt(Upstream(UpstreamUnreachable("down")), breaker, retries=0, board=board)
    assert board.published == [("p", 2, 30)]  # once, when it opened
    await trio.sleep(30)
    assert await attempt(Upstream(), breaker, board=board) == "stream"  # the half-open probe
    assert breaker.state is BreakerState.CLOSED
    assert board.published[-1] == ("p", 0, 0.0)


async def test_a_trip_another_process_published_fails_fast_here(
        autojump_clock: trio.testing.MockClock) -> None:
    upstream = Upstream()
    breaker = CircuitBreaker("p", failure_threshold=5, timeout_s=30)
    with pytest.raises(CircuitOpen, match="next try in 12s"):
        await attempt(upstream, breaker, board=Board(opened=(5, 12.0)))
    assert upstream.calls == 0 and breaker.state is BreakerState.OPEN
    await trio.sleep(12)
    assert await attempt(upstream, breaker, board=Board()) == "stream"  # its time is up here too
