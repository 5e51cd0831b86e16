"""Serve the app with hypercorn's trio worker; SIGTERM/SIGINT shut down gracefully.

On a signal, readiness turns 503 at once and every new request is refused with 503 and
``Retry-After`` (the load shedder's ``shutdown`` reason) while the listener stays open for
``SHUTDOWN_DRAIN_DELAY_MS``, so a load balancer polling ``/health/ready`` sees the change
instead of refused connections. Then hypercorn stops accepting (new connections are refused)
and lets in-flight requests finish until ``GRACEFUL_SHUTDOWN_TIMEOUT`` after the signal, and
the process exits 0. A second signal skips what is left of the drain.
"""

from __future__ import annotations

import logging
import signal

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from lynkr.config.settings import Settings
from lynkr.server.app import build_app
from lynkr.server.state import AppState

log = logging.getLogger("lynkr.server")


def hypercorn_config(settings: Settings, bind: str | None = None) -> Config:
    config = Config()
    config.bind = [bind or f"{settings.host}:{settings.port}"]
    config.workers = settings.workers
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    config.graceful_timeout = settings.graceful_timeout_s
    return config


async def serve_app(state: AppState, config: Config, *, handle_signals: bool = True,
                    shutdown: trio.Event | None = None,
                    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED
                    ) -> None:
    """Serve until a signal (or ``shutdown`` is set, which skips the drain); ``task_status``
    gets the bound URLs."""
    app = build_app(state)
    close = trio.Event()  # hypercorn's trigger: stop accepting, finish in-flight requests
    grace = config.graceful_timeout

    def begin() -> float:
        """Readiness off; returns the deadline for in-flight requests."""
        state.ready = False
        return trio.current_time() + grace

    def close_by(deadline: float) -> None:
        config.graceful_timeout = max(deadline - trio.current_time(), 0.0)
        close.set()

    async def on_signals() -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            deadline = None
            async for signum in signals:
                if deadline is not None:  # a second signal: stop draining now
                    break
                drain = min(state.settings.drain_s, grace)
                log.info("shutting down", extra={"signal": signal.Signals(signum).name,
                                                 "drain_s": drain, "graceful_s": grace})
                deadline = begin()
                with trio.move_on_after(drain):
                    async for _ in signals:
                        break
                break
            if deadline is not None:
                close_by(deadline)

    async def on_event(event: trio.Event) -> None:
        await event.wait()
        close_by(begin())

    async with trio.open_nursery() as nursery:
        if handle_signals:
            nursery.start_soon(on_signals)
        if shutdown is not None:
            nursery.start_soon(on_event, shutdown)
        await serve(app, config, shutdown_trigger=close.wait,  # type: ignore[arg-type]
                    task_status=task_status)
        nursery.cancel_scope.cancel()
