"""The shared-state backend the settings ask for: Redis (``REDIS_URL``) or this process.

With Redis, the rate limiter, the usage ledger's sums (budgets), the circuit-breaker board,
the answer cache and the session store talk through one ``Link``; its health is the
``lynkr_shared_state_up`` gauge and every operation served locally while Redis is away is
counted in ``lynkr_shared_state_fallbacks_total``.
Without it, budgets live in the SQLite key database, which every worker of one host shares
(WAL), and so do the rate-limit buckets under ``--workers N`` (``limits.db`` beside it); one
process keeps its buckets in memory.
"""

from __future__ import annotations

import attrs
from prometheus_client import Counter, Gauge

from lynkr.auth.buckets import SqliteLimiter, limits_path
from lynkr.cache import MemoryCache, MemorySessionStore
from lynkr.config.settings import Settings
from lynkr.governance.limits import LocalLimiter
from lynkr.observability.metrics import Metrics
from lynkr.ports import BreakerBoard, RateLimiter, ResponseCache, SessionStore, UsageLedger
from lynkr.shared.answers import RedisCache
from lynkr.shared.breakers import RedisBreakerBoard
from lynkr.shared.ledger import RedisLedger
from lynkr.shared.limits import RedisLimiter
from lynkr.shared.link import Link
from lynkr.shared.resp import Address
from lynkr.shared.sessions import RedisSessionStore


@attrs.frozen
class SharedState:
    backend: str  # "redis", "sqlite" (workers of one host) or "local" (this process)
    limiter: RateLimiter
    board: BreakerBoard | None = None  # None: each process's breakers are its own
    link: Link | None = None

    def cache(self, local: MemoryCache | None) -> ResponseCache | None:
        """The answer cache a stage asked for (``local``), shared when Redis is on."""
        if local is None or self.link is None:
            return local
        return RedisCache(self.link, local)

    def ledger(self, local: UsageLedger) -> UsageLedger:
        """The usage ledger budgets read: the key database's, and Redis's sums with it."""
        return local if self.link is None else RedisLedger(self.link, local)

    def sessions(self) -> SessionStore:
        local = MemorySessionStore()
        return local if self.link is None else RedisSessionStore(self.link, local)

    async def aclose(self) -> None:
        if self.link is not None:
            await self.link.aclose()


def open_shared_state(all_settings: Settings, metrics: Metrics) -> SharedState:
    """Redis when ``REDIS_URL`` is set; else SQLite buckets for several workers, or this
    process's own."""
    settings = all_settings.shared
    if settings.redis_url is None:
        if all_settings.workers > 1:
            path = limits_path(all_settings.access.keys_db_path)
            return SharedState("sqlite", SqliteLimiter(path))
        return SharedState("local", LocalLimiter())
    up = Gauge(
        "lynkr_shared_state_up",
        "1 while Redis (REDIS_URL) answers, 0 while the shared state is served locally",
        registry=metrics.registry,
        multiprocess_mode="liveall",
    )
    fallbacks = Counter(
        "lynkr_shared_state_fallbacks_total",
        "Operations served from local state because Redis was unreachable",
        ["op"],
        registry=metrics.registry,
    )
    link = Link(
        Address.parse(settings.redis_url),
        timeout_s=settings.timeout_s,
        prefix=settings.prefix,
        on_state=lambda ok: up.set(1 if ok else 0),
        on_fallback=lambda op: fallbacks.labels(op).inc(),
    )
    return SharedState("redis", RedisLimiter(link), RedisBreakerBoard(link), link)
