"""Token buckets per key on trio's MockClock, and the headers each family of clients reads."""

from __future__ import annotations

import trio
import trio.testing

from lynkr.governance.headers import ratelimit_headers
from lynkr.governance.limits import LocalLimiter
from lynkr.model.limits import Decision, Window


async def test_requests_per_minute_refill_over_time(
        autojump_clock: trio.testing.MockClock) -> None:
    limiter = LocalLimiter()
    admitted = [limiter.take("alice", 3, None, trio.current_time()).allowed for _ in range(4)]
    assert admitted == [True, True, True, False]
    refused = limiter.take("alice", 3, None, trio.current_time())
    assert refused.which == "requests" and 19.9 < refused.retry_after_s <= 20.0
    await trio.sleep(20)  # one request back (3 a minute)
    assert limiter.take("alice", 3, None, trio.current_time()).allowed
    assert not limiter.take("alice", 3, None, trio.current_time()).allowed
    # another key has its own bucket
    assert limiter.take("bob", 3, None, trio.current_time()).allowed


async def test_tokens_are_charged_after_the_answer_and_debt_waits(
        autojump_clock: trio.testing.MockClock) -> None:
    limiter = LocalLimiter()
    first = limiter.take("alice", None, 600, trio.current_time())
    assert first.allowed and first.tokens == Window(600, 600, 0.0)
    limiter.charge("alice", 900, trio.current_time())  # 300 tokens in debt
    refused = limiter.take("alice", None, 600, trio.current_time())
    assert not refused.allowed and refused.which == "tokens"
    assert abs(refused.retry_after_s - 30.0) < 0.01  # 300 tokens at 10 a second
    await trio.sleep(30.5)
    assert limiter.take("alice", None, 600, trio.current_time()).allowed


async def test_a_changed_limit_starts_a_new_bucket(
        autojump_clock: trio.testing.MockClock) -> None:
    limiter = LocalLimiter()
    assert limiter.take("alice", 1, None, trio.current_time()).allowed
    assert not limiter.take("alice", 1, None, trio.current_time()).allowed
    assert limiter.take("alice", 5, None, trio.current_time()).allowed
    assert limiter.take("alice", None, None, trio.current_time()).allowed


def test_headers_for_each_family() -> None:
    decision = Decision(False, 12.0, "requests", Window(10, 0, 12.0), Window(1000, 400, 36.0))
    anthropic = dict(ratelimit_headers(decision, True, 1_700_000_000.0))
    assert anthropic == {
        b"anthropic-ratelimit-requests-limit": b"10",
        b"anthropic-ratelimit-requests-remaining": b"0",
        b"anthropic-ratelimit-requests-reset": b"2023-11-14T22:13:32Z",
        b"anthropic-ratelimit-tokens-limit": b"1000",
        b"anthropic-ratelimit-tokens-remaining": b"400",
        b"anthropic-ratelimit-tokens-reset": b"2023-11-14T22:13:56Z"}
    openai = dict(ratelimit_headers(decision, False, 1_700_000_000.0))
    assert openai == {
        b"x-ratelimit-limit-requests": b"10", b"x-ratelimit-remaining-requests": b"0",
        b"x-ratelimit-reset-requests": b"12s", b"x-ratelimit-limit-tokens": b"1000",
        b"x-ratelimit-remaining-tokens": b"400", b"x-ratelimit-reset-tokens": b"36s"}
    long = Decision(True, 0, None, Window(10, 5, 90.5), None)
    assert dict(ratelimit_headers(long, False, 0.0))[b"x-ratelimit-reset-requests"] == b"1m30s"
