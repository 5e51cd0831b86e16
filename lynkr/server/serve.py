"""Serve the app with hypercorn's trio worker; SIGTERM/SIGINT shut down gracefully.

On a signal, readiness turns 503 at once and every new request is refused with 503 and
``Retry-After`` (the load shedder's ``shutdown`` reason) while the listener stays open for
``SHUTDOWN_DRAIN_DELAY_MS``, so a load balancer polling ``/health/ready`` sees the change
instead of refused connections. Then hypercorn stops accepting (new connections are refused)
and lets in-flight requests finish until ``GRACEFUL_SHUTDOWN_TIMEOUT`` after the signal, and
the process exits 0. A second signal skips what is left of the drain. Under
``lynkr start --workers N`` (``server/workers.py``) each worker serves the parent's listening
sockets (``sockets``), and the parent's word (each return of ``drain``) counts as a signal.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable

import trio
from hypercorn.config import Config, Sockets
from hypercorn.trio.run import worker_serve
from hypercorn.utils import wrap_app

from lynkr.config.settings import Settings
from lynkr.server.app import build_app
from lynkr.server.connection import install as install_direct_write
from lynkr.server.state import AppState

log = logging.getLogger("lynkr.server")
LISTEN_BACKLOG = 2048


def hypercorn_config(settings: Settings, bind: str | None = None) -> Config:
    config = Config()
    config.bind = [bind or f"{settings.host}:{settings.port}"]
    config.workers = settings.workers
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    # hypercorn's default of 100 pending connections overflowed at 400 streams opened at once
    # (the kernel reset the rest while the loop parsed the first requests); the kernel caps it
    # at net.core.somaxconn
    config.backlog = LISTEN_BACKLOG
    config.graceful_timeout = settings.graceful_timeout_s
    return config


async def serve_app(state: AppState, config: Config, *, handle_signals: bool = True,
                    shutdown: trio.Event | None = None, sockets: Sockets | None = None,
                    drain: Callable[[], Awaitable[None]] | None = None,
                    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
                    ) -> None:
    """Serve until a signal or ``drain()`` returns (then the drain, then in-flight requests
    finish) or ``shutdown`` is set (no drain); ``task_status`` gets the bound URLs."""
    app = build_app(state)
    install_direct_write()
    close = trio.Event()  # hypercorn's trigger: stop accepting, finish in-flight requests
    grace = config.graceful_timeout

    def begin() -> float:
        """Readiness off; returns the deadline for in-flight requests."""
        state.ready = False
        return trio.current_time() + grace

    def close_by(deadline: float) -> None:
        config.graceful_timeout = max(deadline - trio.current_time(), 0.0)
        close.set()

    told, heard = trio.open_memory_channel[int](8)  # signals, and the parent's word as SIGTERM

    async def on_parent(wait: Callable[[], Awaitable[None]]) -> None:
        while True:  # each return is one word from the parent: a second cuts the drain short
            await wait()
            await told.send(signal.SIGTERM)

    async def relay() -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as received:
            async for signum in received:
                await told.send(signum)

    async def on_signals() -> None:
        deadline = None
        async for signum in heard:
            if deadline is not None:  # a second signal: stop draining now
                break
            drain_s = min(state.settings.drain_s, grace)
            log.info("shutting down", extra={"signal": signal.Signals(signum).name,
                                             "drain_s": drain_s, "graceful_s": grace})
            deadline = begin()
            with trio.move_on_after(drain_s):
                async for _ in heard:
                    break
            break
        if deadline is not None:
            close_by(deadline)

    async def on_event(event: trio.Event) -> None:
        await event.wait()
        close_by(begin())

    async with trio.open_nursery() as nursery:
        if handle_signals:
            nursery.start_soon(relay)
        if drain is not None:
            nursery.start_soon(on_parent, drain)
        if handle_signals or drain is not None:
            nursery.start_soon(on_signals)
        if shutdown is not None:
            nursery.start_soon(on_event, shutdown)
        await worker_serve(wrap_app(app, config.wsgi_max_body_size, "asgi"),  # type: ignore[arg-type]
                           config,
                           sockets=sockets, shutdown_trigger=close.wait,
                           task_status=task_status)
        nursery.cancel_scope.cancel()
