"""Load shedding: refuse new work, politely, when the process is over its limits.

Signals: requests in flight over ``max_active`` (``LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD``)
and resident memory over ``memory_fraction`` (``LOAD_SHEDDING_MEMORY_THRESHOLD``) of the
container's limit, sampled at most every ``memory_every_s``. A shed request gets 503 with
``Retry-After`` in the client's dialect; health probes and metrics are never shed, and nothing
is shed on an idle server (the original's shedder answered 503 to its own liveness probe).
Once shutdown begins (``closing()`` is true) every new request is refused the same way, while
in-flight ones finish. ``on_shed(reason)`` is told of every refusal (``active_requests``,
``memory`` or ``shutdown``), for the ``lynkr_shed_total`` counter.

Memory shedding recovers: when a sample is over the limit the process first gives freed memory
back (``release``: a collection and ``malloc_trim``) and samples again, so resident memory that
is only the allocator's leftover from a past peak does not refuse requests for ever; each later
sample (every ``memory_every_s``) can end the shedding. ``memory_refusal()`` tells readiness.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from lynkr.model.errors import Shedding
from lynkr.observability.memory import memory_limit, release_memory, rss_bytes
from lynkr.server.asgi import request_id
from lynkr.server.errors import client_dialect, send_error

NEVER_SHED = ("/health", "/v1/health", "/metrics")


class LoadShedder:
    def __init__(self, app: Any, *, max_active: int, memory_fraction: float,
                 memory_every_s: float = 1.0, retry_after_s: int = 2,
                 rss: Callable[[], int] = rss_bytes, limit: int | None = None,
                 clock: Callable[[], float] = monotonic,
                 on_shed: Callable[[str], None] | None = None,
                 closing: Callable[[], bool] | None = None,
                 release: Callable[[], None] = release_memory) -> None:
        self.app = app
        self.max_active = max_active
        self.memory_fraction = memory_fraction
        self.memory_every_s = memory_every_s
        self.retry_after_s = retry_after_s
        self._rss, self._clock = rss, clock
        self._limit = limit if limit is not None else memory_limit()
        self._on_shed, self._closing, self._release = on_shed, closing, release
        self._checked_at = float("-inf")
        self._memory_high = False
        self.active = 0
        self.shed = 0

    def over_memory(self) -> bool:
        now = self._clock()
        if now - self._checked_at >= self.memory_every_s:
            self._checked_at = now
            ceiling = self.memory_fraction * self._limit
            high = self._rss() > ceiling
            if high:
                self._release()
                high = self._rss() > ceiling
            self._memory_high = high
        return self._memory_high

    def memory_refusal(self) -> str | None:
        """Why every request is refused for memory now, else None (for readiness)."""
        if self.over_memory():
            return f"memory above {self.memory_fraction:.0%} of the limit"
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NEVER_SHED):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal()
        if refusal is not None:
            self.shed += 1
            if self._on_shed is not None:
                self._on_shed(refusal[0])
            await self._refuse(scope, send, refusal[1])
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1

    def refusal(self) -> tuple[str, str] | None:
        """(reason label, message) if a new request must be refused now, else None."""
        if self._closing is not None and self._closing():
            return "shutdown", "shutting down"
        if self.active >= self.max_active:
            return ("active_requests",
                    f"{self.active} requests in flight (limit {self.max_active})")
        memory = self.memory_refusal()
        if memory is not None:
            return "memory", memory
        return None

    async def _refuse(self, scope: dict[str, Any], send: Any, reason: str) -> None:
        rid = request_id(scope)
        error = Shedding(f"Lynkr is refusing new requests ({reason}); retry in "
                         f"{self.retry_after_s}s", retry_after=self.retry_after_s)
        await send_error(send, error, rid, client_dialect(scope))
