"""Serve the app with hypercorn's trio worker; SIGTERM/SIGINT shut down gracefully.

On a signal readiness turns 503 at once, hypercorn stops accepting and lets in-flight
requests finish for up to ``GRACEFUL_SHUTDOWN_TIMEOUT``, then the process exits 0.
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
    """Serve until a signal (or ``shutdown`` is set); ``task_status`` gets the bound URLs."""
    app = build_app(state)
    stop = shutdown if shutdown is not None else trio.Event()

    async def on_signals() -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for signum in signals:
                log.info("shutting down", extra={"signal": signal.Signals(signum).name})
                state.ready = False
                stop.set()
                return

    async def trigger() -> None:
        await stop.wait()
        state.ready = False

    async with trio.open_nursery() as nursery:
        if handle_signals:
            nursery.start_soon(on_signals)
        await serve(app, config, shutdown_trigger=trigger, task_status=task_status)  # type: ignore[arg-type]
        nursery.cancel_scope.cancel()
