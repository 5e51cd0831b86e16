"""Requests and tokens per minute per key, as token buckets, in this process.

Each limited key has a bucket per kind: it holds up to the per-minute limit and refills at
limit/60 a second. A request takes one request token when one is there. Tokens are only known
when the upstream reports them, so a request is admitted while the token bucket is not empty
and its usage is charged afterwards; the bucket may go into debt, and the next request waits
until the debt is paid back. ``LocalLimiter`` implements the ``RateLimiter`` port
(``lynkr/ports.py``); a shared (Redis) one can replace it without touching the server.
Times are the caller's clock in seconds (the server passes ``trio.current_time()``).
"""

from __future__ import annotations

import math

import attrs

from lynkr.model.limits import Decision, Window

MINUTE = 60.0


@attrs.define
class Bucket:
    limit: int  # per minute, also the capacity
    level: float
    at: float

    def refill(self, now: float) -> None:
        self.level = min(float(self.limit), self.level + (now - self.at) * self.limit / MINUTE)
        self.at = now

    def wait(self, need: float) -> float:
        """Seconds until the level reaches ``need`` (0 when it is there)."""
        return max(0.0, (need - self.level) * MINUTE / self.limit)

    def full_in(self) -> float:
        return self.wait(float(self.limit))


def window(bucket: Bucket | None) -> Window | None:
    if bucket is None:
        return None
    return Window(bucket.limit, max(0, math.floor(bucket.level)), bucket.full_in())


class LocalLimiter:
    def __init__(self) -> None:
        self.buckets: dict[tuple[str, str], Bucket] = {}

    def _bucket(self, key: str, kind: str, limit: int | None, now: float) -> Bucket | None:
        if limit is None:
            self.buckets.pop((key, kind), None)
            return None
        bucket = self.buckets.get((key, kind))
        if bucket is None or bucket.limit != limit:  # new, or its limit changed
            bucket = self.buckets[(key, kind)] = Bucket(limit, float(limit), now)
        bucket.refill(now)
        return bucket

    async def admit(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision:
        return self.take(key, rpm, tpm, now)

    def take(self, key: str, rpm: int | None, tpm: int | None, now: float) -> Decision:
        """``admit`` without the await (it never waits: one dict lookup per kind)."""
        requests = self._bucket(key, "requests", rpm, now)
        tokens = self._bucket(key, "tokens", tpm, now)
        if requests is not None and requests.level < 1:
            return Decision(False, requests.wait(1), "requests", window(requests),
                            window(tokens))
        if tokens is not None and tokens.level <= 0:
            return Decision(False, max(tokens.wait(0), 0.001), "tokens", window(requests),
                            window(tokens))
        if requests is not None:
            requests.level -= 1
        return Decision(True, 0.0, None, window(requests), window(tokens))

    def charge(self, key: str, tokens: int, now: float) -> None:
        bucket = self.buckets.get((key, "tokens"))
        if bucket is not None and tokens:
            bucket.refill(now)
            bucket.level -= tokens
