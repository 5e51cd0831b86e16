"""An in-process LRU + TTL response cache (the default ``ResponseCache`` port).

The caller passes the time, so the cache never reads a clock and tests control expiry. It is
meant for one event loop: every operation is a few dict steps with no ``await`` inside, so no
two tasks can interleave within one. Replicas that must share answers use a shared engine
behind the same port instead.
"""

from __future__ import annotations

from collections import OrderedDict

from lynkr.model.response import Response


class MemoryCache:
    def __init__(self, max_entries: int = 64, ttl_s: float = 300.0) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, Response]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str, now: float) -> Response | None:
        return self.lookup(key, now)

    def lookup(self, key: str, now: float) -> Response | None:
        """The answer stored under ``key`` if younger than the TTL; a hit becomes the newest."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, response = entry
        if now - stored_at >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return response

    def put(self, key: str, response: Response, now: float) -> None:
        """Store (or refresh) ``key``; the least recently used entries go beyond the limit."""
        self._entries[key] = (now, response)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
