"""The one Redis every shared-state port talks through, and what happens while it is gone.

Assumes: called from trio tasks of one run (the server's); ``Pool`` does the I/O.
Guarantees: a call either returns Redis's reply or raises ``Unavailable`` at once; it never
raises anything else for a Redis that is down, slow, unreachable or refusing (OOM, READONLY,
a wrong password: each kind logged once), so every port can fall
back to its local state and no request fails because of Redis. The first failure logs one
WARNING, sets ``lynkr_shared_state_up`` to 0 and counts ``lynkr_shared_state_fallbacks_total``
for each operation served locally; after a backoff (0.2 s doubling to ``BACKOFF_MAX_S``) the
next call probes Redis again (one caller at a time, the others stay local), and a success
logs the recovery (INFO) and sets the gauge back to 1. ``post`` sends a write in the
background (a bounded queue drained by one task), for callers that may not wait (a stream
tap, a cache store).
Never: retries a command (a limit must not be taken twice) or logs the password.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import trio

from lynkr.shared.resp import Address, Pool, RedisDown, RedisReplyError, Reply

log = logging.getLogger("lynkr.shared")
BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 5.0
QUEUE = 4096  # background writes waiting for Redis; beyond it they are dropped (and counted)
Arg = bytes | str | int | float


class Unavailable(Exception):
    """Redis cannot serve this call now: use local state."""


class Link:
    def __init__(
        self,
        address: Address,
        *,
        timeout_s: float = 1.0,
        pool_size: int = 16,
        prefix: str = "lynkr:",
        on_state: Callable[[bool], None] = lambda up: None,
        on_fallback: Callable[[str], None] = lambda op: None,
    ) -> None:
        self.address = address
        self.prefix = prefix
        self.pool = Pool(address, pool_size, timeout_s)
        self.up = True
        self.retry_at = 0.0
        self.backoff = BACKOFF_MIN_S
        self.probing = False
        self.on_state, self.on_fallback = on_state, on_fallback
        self.shas: dict[str, bytes] = {}
        self.refusals: set[str] = set()  # kinds of error replies already logged
        self._queue: trio.MemorySendChannel[tuple[str, tuple[Arg, ...]]] | None = None
        self._queue_run: object = None
        on_state(True)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def call(self, op: str, *args: Arg) -> Reply:
        """One command's reply, or ``Unavailable`` (counted as a fallback of ``op``)."""
        probe = False
        if not self.up:
            if self.probing or trio.current_time() < self.retry_at:
                self.on_fallback(op)
                raise Unavailable(op)
            self.probing = probe = True
        try:
            reply = await self.pool.call(*args)
        except RedisDown as exc:
            self._down(exc)
            self.on_fallback(op)
            raise Unavailable(op) from None
        except RedisReplyError as exc:
            kind = str(exc).split(" ", 1)[0]
            if kind == "NOSCRIPT":
                raise  # ``script`` loads it
            if kind not in self.refusals:  # OOM, READONLY, ...: once each, not per request
                self.refusals.add(kind)
                log.warning(
                    "shared state: Redis refused a command, using local state for it",
                    extra={"op": op, "error": str(exc)},
                )
            self.on_fallback(op)
            raise Unavailable(op) from None
        finally:
            if probe:
                self.probing = False
        if not self.up:
            self._recovered()
        return reply

    async def script(
        self, op: str, source: str, keys: tuple[str, ...], args: tuple[Arg, ...]
    ) -> Reply:
        """Run a Lua script atomically (EVALSHA, loading it once per connection's server)."""
        sha = self.shas.get(source)
        if sha is not None:
            try:
                return await self.call(op, "EVALSHA", sha, len(keys), *keys, *args)
            except RedisReplyError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise  # a restarted Redis forgets its scripts: load again below
        loaded = await self.call(op, "SCRIPT", "LOAD", source)
        assert isinstance(loaded, bytes)
        self.shas[source] = loaded
        return await self.call(op, "EVALSHA", loaded, len(keys), *keys, *args)

    def post(self, op: str, *args: Arg) -> None:
        """Send a write without waiting for it; dropped (and counted) while Redis is down."""
        if not self.up and trio.current_time() < self.retry_at:
            self.on_fallback(op)
            return
        run = trio.lowlevel.current_trio_token()
        if self._queue is None or self._queue_run is not run:
            send, receive = trio.open_memory_channel[tuple[str, tuple[Arg, ...]]](QUEUE)
            self._queue, self._queue_run = send, run
            trio.lowlevel.spawn_system_task(self._writer, receive, name="lynkr.shared.writer")
        try:
            self._queue.send_nowait((op, args))
        except trio.WouldBlock:
            self.on_fallback(op)

    async def _writer(
        self, receive: trio.MemoryReceiveChannel[tuple[str, tuple[Arg, ...]]]
    ) -> None:
        async for op, args in receive:
            with contextlib.suppress(Unavailable, RedisReplyError):  # counted by ``call``
                await self.call(op, *args)

    def _down(self, exc: Exception) -> None:
        now = trio.current_time()
        if self.up:
            log.warning(
                "shared state: Redis unreachable, using local state until it is back",
                extra={"redis": self.address.shown(), "error": str(exc)},
            )
            self.up = False
            self.backoff = BACKOFF_MIN_S
            self.on_state(False)
        else:
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)
        self.retry_at = now + self.backoff

    def _recovered(self) -> None:
        log.info(
            "shared state: Redis is back, sharing state again",
            extra={"redis": self.address.shown()},
        )
        self.up = True
        self.backoff = BACKOFF_MIN_S
        self.on_state(True)

    async def aclose(self) -> None:
        if self._queue is not None:
            self._queue.close()
        await self.pool.aclose()
