"""Opening an upstream stream with retries and a circuit breaker.

Retries happen only while nothing has reached the client: around opening the upstream call
(connect, status line, error statuses). The breaker is checked first, so an open breaker fails
fast instead of waiting on a dead provider.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import trio

from lynkr.model.errors import LynkrError
from lynkr.resilience.breaker import CircuitBreaker
from lynkr.resilience.retry import RetryPolicy, counts_against_breaker, is_retryable

Opener = Callable[[], AbstractAsyncContextManager[Any]]
OnRetry = Callable[[int, LynkrError, float], None]


@asynccontextmanager
async def open_with_retry(opener: Opener, breaker: CircuitBreaker, policy: RetryPolicy, *,
                          rng: random.Random, on_retry: OnRetry | None = None
                          ) -> AsyncIterator[Any]:
    """``opener()`` entered with up to ``policy.max_retries`` retries; yields its value."""
    attempt = 0
    while True:
        breaker.check(trio.current_time())
        manager = opener()
        try:
            stream = await manager.__aenter__()
        except LynkrError as error:
            if counts_against_breaker(error):
                breaker.record_failure(trio.current_time())
            attempt += 1
            if not is_retryable(error) or attempt > policy.max_retries:
                raise
            delay = policy.delay(attempt, error, rng)
            if on_retry is not None:
                on_retry(attempt, error, delay)
            await trio.sleep(delay)
            continue
        breaker.record_success()
        break
    try:
        yield stream
    except BaseException as exc:
        if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await manager.__aexit__(None, None, None)
