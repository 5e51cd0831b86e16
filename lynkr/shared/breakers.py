"""Circuit-breaker trips shared through Redis: the ``BreakerBoard`` port.

Assumes: ``Link`` for I/O; each process keeps its own ``CircuitBreaker`` per provider
(``resilience/breaker.py``) and asks the board before each upstream call.
Guarantees: a trip is one key per provider whose value is the failure count and whose expiry is
the open time (``SET ... PX``), so "how long it stays open" is Redis's clock, never a process's;
a process that sees the key opens its own breaker for what is left of that time and fails fast
like the one that tripped. A breaker that closes again deletes the key. After the open time,
each process's breaker goes half-open on its own (so up to one probe per process).
Never: waits on Redis when it is down (the local breaker alone decides then), or fails a request
because of Redis.
"""

from __future__ import annotations

from lynkr.shared.link import Link, Unavailable

LOOK = "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}"


class RedisBreakerBoard:
    def __init__(self, link: Link) -> None:
        self.link = link

    async def opened(self, provider: str) -> tuple[int, float] | None:
        try:
            reply = await self.link.script(
                "breakers", LOOK, (self.link.key("breaker", provider),), ()
            )
        except Unavailable:
            return None
        assert isinstance(reply, list)
        failures, left_ms = reply if len(reply) == 2 else (None, -2)
        if not isinstance(failures, bytes) or not isinstance(left_ms, int) or left_ms <= 0:
            return None
        return int(failures), left_ms / 1000

    def publish(self, provider: str, failures: int, open_for_s: float) -> None:
        key = self.link.key("breaker", provider)
        if open_for_s > 0:
            self.link.post("breakers", "SET", key, failures, "PX", max(1, int(open_for_s * 1000)))
        else:
            self.link.post("breakers", "DEL", key)
