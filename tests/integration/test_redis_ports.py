"""Each shared-state port on a real redis-server, in this process: the same answers as the
local implementation, atomic under concurrency, and local state (never an error) while Redis
is down, back on Redis by itself after it restarts."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio
from harness.redis_server import RedisServer, redis_server

from lynkr.auth.store import KeyStore
from lynkr.cache import MemoryCache, MemorySessionStore
from lynkr.governance.budget import window_start
from lynkr.governance.limits import LocalLimiter
from lynkr.model import Response, TextBlock, Usage
from lynkr.model.content import RedactedThinkingBlock, ThinkingBlock
from lynkr.ports import Spend, UsageEntry
from lynkr.resilience.breaker import BreakerState, CircuitBreaker
from lynkr.shared.answers import RedisCache, decode_answer, encode_answer
from lynkr.shared.breakers import RedisBreakerBoard
from lynkr.shared.ledger import RedisLedger
from lynkr.shared.limits import RedisLimiter
from lynkr.shared.link import Link
from lynkr.shared.resp import Address
from lynkr.shared.sessions import RedisSessionStore

ANSWER = Response(
    "msg_1",
    "m",
    (
        ThinkingBlock("hmm", "sig"),
        RedactedThinkingBlock("xx"),
        TextBlock("hello", extra={"citations": [{"n": 1}]}),
    ),
    "end_turn",
    Usage(10, 2, 3, 4),
)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


OPEN: list[Link] = []


@pytest.fixture
async def close_links() -> AsyncIterator[None]:
    yield
    while OPEN:
        await OPEN.pop().aclose()


class Seen:
    def __init__(self) -> None:
        self.states: list[bool] = []
        self.fallbacks: list[str] = []

    def link(self, redis: RedisServer, timeout_s: float = 2.0) -> Link:
        link = Link(
            Address.parse(redis.url),
            timeout_s=timeout_s,
            on_state=self.states.append,
            on_fallback=self.fallbacks.append,
        )
        OPEN.append(link)
        return link


async def test_the_redis_limiter_decides_as_the_local_one(
    redis: RedisServer, close_links: None
) -> None:
    shared, local = RedisLimiter(Seen().link(redis)), LocalLimiter()
    for _ in range(4):
        remote = await shared.admit("alice", 3, 1000, 0.0)
        here = local.take("alice", 3, 1000, 0.0)
        assert (remote.allowed, remote.which) == (here.allowed, here.which)
        assert remote.requests is not None and here.requests is not None
        assert remote.requests.remaining == here.requests.remaining
    refused = await shared.admit("alice", 3, 1000, 0.0)
    assert refused.which == "requests" and 0 < refused.retry_after_s <= 20.01
    shared.charge("bob", 5, 0.0)  # no bucket yet: nothing to charge
    assert (await shared.admit("bob", None, 10, 0.0)).allowed
    shared.charge("bob", 50, 0.0)
    await trio.sleep(0.2)  # the charge goes in the background
    over = await shared.admit("bob", None, 10, 0.0)
    assert not over.allowed and over.which == "tokens" and over.retry_after_s > 200


async def test_concurrent_admissions_through_many_links_take_each_token_once(
    redis: RedisServer, close_links: None
) -> None:
    # as four processes; a generous timeout, so that a loaded machine's slow answers are not
    # taken for a Redis that is down (each link would then admit on its own)
    seen = Seen()
    limiters = [RedisLimiter(seen.link(redis, timeout_s=30.0)) for _ in range(4)]
    allowed: list[bool] = []

    async def one(limiter: RedisLimiter) -> None:
        allowed.append((await limiter.admit("k", 50, None, 0.0)).allowed)

    started = time.monotonic()
    async with trio.open_nursery() as nursery:
        for i in range(200):
            nursery.start_soon(one, limiters[i % 4])
    refilled = math.ceil((time.monotonic() - started) * 50 / 60)  # Redis's clock runs on
    assert len(allowed) == 200
    assert seen.fallbacks == []  # every decision was Redis's
    assert 50 <= sum(allowed) <= 50 + max(refilled, 2)  # the bucket, plus what refilled


async def test_redis_down_serves_locally_then_recovers_by_itself(
    redis: RedisServer, close_links: None
) -> None:
    seen = Seen()
    link = seen.link(redis)
    limiter = RedisLimiter(link)
    assert (await limiter.admit("a", 100, None, 0.0)).allowed
    redis.kill()
    with trio.fail_after(5):  # never an error, never a long wait
        decisions = [await limiter.admit("a", 100, None, trio.current_time()) for _ in range(5)]
    assert all(d.allowed for d in decisions)
    assert seen.states == [True, False] and seen.fallbacks.count("limits") == 5
    redis.start()  # a new Redis: empty, without our scripts (NOSCRIPT, loaded again)
    deadline = trio.current_time() + 10
    while not link.up:
        assert trio.current_time() < deadline, "did not come back"
        await limiter.admit("a", 100, None, trio.current_time())
        await trio.sleep(0.1)
    assert seen.states == [True, False, True]
    assert redis.command("HGET", "lynkr:limit:a:requests", "limit") == b"$3\r\n100\r\n"


async def test_a_trip_published_by_one_board_opens_another_process_breaker(
    redis: RedisServer, close_links: None
) -> None:
    one, two = RedisBreakerBoard(Seen().link(redis)), RedisBreakerBoard(Seen().link(redis))
    assert await two.opened("openai") is None
    one.publish("openai", 5, 30.0)
    await trio.sleep(0.2)
    seen = await two.opened("openai")
    assert seen is not None and seen[0] == 5 and 29 < seen[1] <= 30
    breaker = CircuitBreaker("openai", timeout_s=30.0)
    assert breaker.adopt(*seen, now=100.0)
    assert breaker.state is BreakerState.OPEN and not breaker.allow(100.0)
    assert breaker.allow(100.0 + seen[1] + 0.01)  # half-open when the trip's time is up
    one.publish("openai", 0, 0.0)  # closed again
    await trio.sleep(0.2)
    assert await two.opened("openai") is None


async def test_answers_are_shared_between_caches(redis: RedisServer, close_links: None) -> None:
    assert decode_answer(encode_answer(ANSWER) or b"") == ANSWER
    writer = RedisCache(Seen().link(redis), MemoryCache(4, 60))
    reader = RedisCache(Seen().link(redis), MemoryCache(4, 60))
    writer.put("k1", ANSWER, 0.0)
    await trio.sleep(0.2)
    assert await reader.get("k1", 0.0) == ANSWER
    assert await reader.get("other", 0.0) is None
    ttl = redis.command("PTTL", "lynkr:cache:k1")
    assert 50_000 < int(ttl[1:].split(b"\r")[0]) <= 60_000


async def test_session_decisions_are_reproduced_by_another_process(
    redis: RedisServer, close_links: None
) -> None:
    first = RedisSessionStore(Seen().link(redis), MemorySessionStore())
    second = RedisSessionStore(Seen().link(redis), MemorySessionStore())
    first.put("sid:1", "tool_selection", '{"keep":["Read"]}')
    await trio.sleep(0.2)
    assert second.get("sid:1", "tool_selection") is None  # not loaded yet
    await second.load("sid:1")
    assert second.get("sid:1", "tool_selection") == '{"keep":["Read"]}'
    redis.kill()
    await second.load("sid:1")  # Redis away: what is here stays, no error
    assert second.get("sid:1", "tool_selection") == '{"keep":["Read"]}'


async def test_budgets_spent_on_one_host_are_seen_on_another(
    redis: RedisServer, close_links: None, tmp_path: Path
) -> None:
    stores = [KeyStore(tmp_path / f"host{i}.db") for i in range(2)]  # a key database each
    one, two = (RedisLedger(Seen().link(redis), store.ledger) for store in stores)
    now = 1_796_200_000.0  # 2026-12-02, UTC
    entry = UsageEntry("alice", "s1", "openai/gpt-4o", Usage(100, 20, 0, 30), 0.25, now)
    await one.load("alice", "s1", now)
    one.record(entry)
    assert one.spent("alice", window_start(now, "day")) == Spend(150, 0.25)  # before Redis has it
    await trio.sleep(0.2)
    assert two.spent("alice", window_start(now, "month")) == Spend(0, 0.0)  # not loaded yet
    await two.load("alice", "s1", now + 3600)
    assert two.spent("alice", window_start(now, "month")) == Spend(150, 0.25)
    assert two.spent("alice", window_start(now, "day"), "s1") == Spend(150, 0.25)
    assert two.spent("alice", window_start(now, "day"), "s2") == Spend(0, 0.0)
    next_month = window_start(now, "month") + 31 * 86_400
    await two.load("alice", None, next_month)
    assert two.spent("alice", window_start(next_month, "month")) == Spend(0, 0.0)
    redis.kill()  # the local ledger answers: this host's usage only
    await two.load("alice", None, now)
    assert two.spent("alice", window_start(now, "day")) == Spend(0, 0.0)
    await one.load("alice", None, now)
    assert one.spent("alice", window_start(now, "day")) == Spend(150, 0.25)
    for store in stores:
        store.close()
