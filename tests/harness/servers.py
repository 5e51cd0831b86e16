"""Run real hypercorn servers (trio worker) on loopback, each in its own thread."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from lynkr.config.settings import load_settings
from lynkr.server.app import build_state
from lynkr.server.serve import hypercorn_config, serve_app
from lynkr.server.state import AppState


@contextmanager
def run_in_thread(start: Any, name: str) -> Iterator[str]:
    """``start(shutdown_event, task_status)`` serves until the event is set; yields its URL."""
    box: dict[str, Any] = {}
    ready = threading.Event()

    async def main() -> None:
        box["stop"] = trio.Event()
        box["token"] = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(start, box["stop"])
            box["url"] = binds[0]
            ready.set()

    def target() -> None:
        try:
            trio.run(main)
        except BaseException as exc:  # surfaced to the test below
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    if not ready.wait(20) or "error" in box:
        raise RuntimeError(f"{name} did not start: {box.get('error')!r}")
    try:
        yield box["url"]
    finally:
        trio.from_thread.run_sync(box["stop"].set, trio_token=box["token"])
        thread.join(20)


def _plain_config(graceful: float, certfile: str | None = None) -> Config:
    config = Config()
    config.bind = ["127.0.0.1:0"]
    if certfile is not None:  # one PEM file with the key and the certificate chain
        config.certfile = config.keyfile = certfile
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = graceful
    return config


@contextmanager
def serve_asgi(app: Any, name: str = "fake-upstream", graceful: float = 0.2,
               certfile: str | None = None) -> Iterator[str]:
    """``app`` on a loopback port; over TLS (an https:// URL) when ``certfile`` is given."""
    config = _plain_config(graceful, certfile)

    async def start(stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve(app, config, shutdown_trigger=stop.wait, task_status=task_status)

    with run_in_thread(start, name) as url:
        yield url


def lynkr_state(env: Mapping[str, str], pipeline: str | None = None) -> AppState:
    """The app state ``serve_lynkr`` builds from ``env`` alone (no .env file)."""
    env = dict(env)
    # each server its own long-term memory (memories one test teaches never reach another)
    env.setdefault("MEMORY_DB_PATH", str(Path(tempfile.mkdtemp(prefix="lynkr-memory-"))
                                         / "memory.db"))
    settings = load_settings(environ=env, env_file="/nonexistent/.env")
    return build_state(attrs.evolve(settings, pipeline=pipeline or settings.pipeline))


@contextmanager
def serve_lynkr(env: Mapping[str, str], pipeline: str | None = None) -> Iterator[str]:
    """The real Lynkr app on a random loopback port, configured by ``env`` alone."""
    with serve_state(lynkr_state(env, pipeline)) as url:
        yield url


@contextmanager
def serve_state(state: AppState) -> Iterator[str]:
    """The real Lynkr app over a state the test built (and may look into) on loopback."""
    config = hypercorn_config(state.settings, bind="127.0.0.1:0")
    config.graceful_timeout = 0.5

    async def start(stop: trio.Event, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        await serve_app(state, config, handle_signals=False, shutdown=stop,
                        task_status=task_status)

    with run_in_thread(partial(start), "lynkr") as url:
        yield url
