"""The in-process LRU + TTL cache: expiry by the caller's clock, eviction of the least used."""

from __future__ import annotations

import pytest

from lynkr.cache.memory import MemoryCache
from lynkr.model import Response, TextBlock, Usage


def answer(text: str) -> Response:
    return Response("msg_1", "m", (TextBlock(text),), "end_turn", Usage(10, 2))


def test_get_returns_what_was_put() -> None:
    cache = MemoryCache(4, 10.0)
    cache.put("k", answer("a"), now=0.0)
    assert cache.lookup("k", now=5.0) == answer("a")
    assert cache.lookup("other", now=5.0) is None


@pytest.mark.parametrize(("age", "alive"), [(0.0, True), (9.99, True), (10.0, False),
                                            (50.0, False)])
def test_entries_expire_after_the_ttl(age: float, alive: bool) -> None:
    cache = MemoryCache(4, 10.0)
    cache.put("k", answer("a"), now=100.0)
    assert (cache.lookup("k", now=100.0 + age) is not None) == alive
    assert len(cache) == (1 if alive else 0)


def test_least_recently_used_goes_first() -> None:
    cache = MemoryCache(2, 100.0)
    cache.put("a", answer("a"), 0)
    cache.put("b", answer("b"), 0)
    assert cache.lookup("a", 1) is not None  # a is now the most recent
    cache.put("c", answer("c"), 2)
    assert [cache.lookup(k, 3) is not None for k in "abc"] == [True, False, True]
    assert len(cache) == 2


def test_put_refreshes_an_entry() -> None:
    cache = MemoryCache(2, 10.0)
    cache.put("k", answer("old"), 0)
    cache.put("k", answer("new"), 8)
    assert cache.lookup("k", 15) == answer("new")
    assert len(cache) == 1


@pytest.mark.parametrize(("entries", "ttl"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_bad_limits_are_refused(entries: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        MemoryCache(entries, ttl)
