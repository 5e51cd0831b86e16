"""Opening an upstream answer with retries and a circuit breaker.

Retries happen only while nothing has reached the client: around opening the upstream call
(connect, status line, error statuses) and its first read (``first_read``: the events before
any content, where an upstream may still answer with an error frame). The breaker is checked
once, first, so an open breaker fails fast instead of waiting on a dead provider; the request's
one outcome is settled after its retries: a success, a failure (only a provider fault), or a
release (anything else, including the client going away).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import trio

from lynkr.model.errors import LynkrError
from lynkr.ports import BreakerBoard
from lynkr.resilience.breaker import BreakerState, CircuitBreaker
from lynkr.resilience.retry import RetryPolicy, counts_against_breaker, is_retryable

Opener = Callable[[], AbstractAsyncContextManager[Any]]
FirstRead = Callable[[Any], Awaitable[Any]]
OnRetry = Callable[[int, LynkrError, float], None]


async def _nothing(stream: Any) -> None:
    return None


@asynccontextmanager
async def open_with_retry(opener: Opener, breaker: CircuitBreaker, policy: RetryPolicy, *,
                          rng: random.Random, first_read: FirstRead = _nothing,
                          on_retry: OnRetry | None = None, board: BreakerBoard | None = None
                          ) -> AsyncIterator[tuple[Any, Any]]:
    """``opener()`` entered and ``first_read(stream)`` awaited, with up to
    ``policy.max_retries`` retries; yields ``(stream, first)``. With a ``board``, a trip
    another process published opens ``breaker`` first, and this breaker's trips and recoveries
    are published."""
    if board is not None:
        shared = await board.opened(breaker.name)
        if shared is not None:
            breaker.adopt(*shared, trio.current_time())
    breaker.check(trio.current_time())
    was_open = breaker.state is not BreakerState.CLOSED
    settled = False
    try:
        attempt = 0
        while True:
            manager = opener()
            try:
                stream, first = await _enter(manager, first_read)
            except LynkrError as error:
                attempt += 1
                if not is_retryable(error) or attempt > policy.max_retries:
                    if counts_against_breaker(error):
                        trips = breaker.trips
                        breaker.record_failure(trio.current_time())
                        if board is not None and breaker.trips > trips:
                            board.publish(breaker.name, breaker.failures, breaker.timeout_s)
                    else:
                        breaker.release()
                    settled = True
                    raise
                delay = policy.delay(attempt, error, rng)
                if on_retry is not None:
                    on_retry(attempt, error, delay)
                await trio.sleep(delay)
                continue
            breaker.record_success()
            if board is not None and was_open and breaker.state is BreakerState.CLOSED:
                board.publish(breaker.name, 0, 0.0)
            settled = True
            break
    finally:
        if not settled:  # cancelled (the client went away) or an unexpected error
            breaker.release()
    try:
        yield stream, first
    except BaseException as exc:
        if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await manager.__aexit__(None, None, None)


async def _enter(manager: AbstractAsyncContextManager[Any], first_read: FirstRead
                 ) -> tuple[Any, Any]:
    stream = await manager.__aenter__()
    try:
        first = await first_read(stream)
    except BaseException as exc:
        await manager.__aexit__(type(exc), exc, exc.__traceback__)
        raise
    return stream, first
