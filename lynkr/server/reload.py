"""Hot reload of the pipeline file: on SIGHUP, and on change when ``LYNKR_PIPELINE_WATCH`` is
on. The new file is compiled and validated (in a worker thread) before anything changes; only
then are the state's pipeline and version swapped, in one step on the event loop, so a request
sees either the old pipeline or the new one. A request keeps the pipeline it started with to
its end (``flow.handle`` reads it once). A file with mistakes changes nothing: each mistake is
logged with its ``file:line:column``, and the running pipeline keeps serving.

Changes are found by polling the file's ``stat`` (modification time, size, inode) every
``LYNKR_PIPELINE_WATCH_INTERVAL_MS``, and loaded once the signature has held still for one more
interval (an editor's half-written file is not compiled). Polling, not inotify: one ``stat`` a
second costs nothing, needs no dependency, and also sees what inotify on the file misses (a
Kubernetes ConfigMap's symlink swap, an editor's rename over the file, network mounts). The
version is the pipeline's name, the first 12 hex digits of the SHA-256 of the bytes compiled,
and the generation (1 at start, one more per swap): ``default@3f2a9c1e4b7d#2``; a save that
changes nothing in the bytes is not a new version.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import attrs
import trio

from lynkr.pipeline.compile import Pipeline, PipelineError
from lynkr.pipeline.effective import Loaded, load_pipeline
from lynkr.ports import ResponseCache
from lynkr.server.state import AppState

log = logging.getLogger("lynkr.pipeline")
Signature = tuple[int, int, int] | None


def version_name(loaded: Loaded, generation: int) -> str:
    return f"{loaded.pipeline.name}@{loaded.digest[:12]}#{generation}"


def signature(path: Path) -> Signature:
    try:
        stat = os.stat(path)
    except OSError:
        return None  # gone for a moment (a rename over it): looked at again next time
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class PipelineReloader:
    """Swaps ``state.pipeline`` for the file's current text when asked and it compiles."""

    def __init__(
        self, state: AppState, cache_for: Callable[[Pipeline], ResponseCache | None]
    ) -> None:
        self.state, self.cache_for = state, cache_for
        self.generation = 1
        self.lock = trio.Lock()  # one reload at a time (a SIGHUP during a change)
        self.limiter = trio.CapacityLimiter(1)

    def start(self, nursery: trio.Nursery) -> None:
        """The watcher (``LYNKR_PIPELINE_WATCH``) and the SIGHUP handler (main thread only:
        a server a test runs in a thread has no signals) for a state loaded from a file."""
        if self.state.loaded is None:
            return
        if self.state.settings.pipeline_watch:
            nursery.start_soon(self.watch, self.state.settings.pipeline_watch_interval_s)
        if threading.current_thread() is threading.main_thread():
            nursery.start_soon(self.on_sighup)

    async def reload(self, why: str) -> str:
        """Compile the file again and swap it in: "reloaded", "unchanged" or "failed"."""
        current = self.state.loaded
        assert current is not None
        async with self.lock:
            outcome = await self._reload(current.path, why)
        self.state.metrics.pipeline_reloads.labels(outcome).inc()
        return outcome

    async def _reload(self, path: Path, why: str) -> str:
        running = self.state.pipeline_version
        try:
            loaded = await trio.to_thread.run_sync(
                load_pipeline, self.state.settings, path, limiter=self.limiter
            )
        except PipelineError as exc:
            log.error(
                "pipeline reload failed; the running pipeline stays",
                extra={
                    "why": why,
                    "source": exc.source,
                    "running": running,
                    "problems": len(exc.problems),
                },
            )
            for problem in exc.problems:
                log.error("pipeline problem", extra={"source": exc.source, "problem": problem})
            return "failed"
        except Exception:  # the background task's top-level guard: never take the server down
            log.exception(
                "pipeline reload failed; the running pipeline stays",
                extra={"why": why, "running": running},
            )
            return "failed"
        state = self.state
        if state.loaded is not None and loaded.digest == state.loaded.digest:
            return "unchanged"
        self.generation += 1
        version = version_name(loaded, self.generation)
        cache = self.cache_for(loaded.pipeline)
        # no await from here on: the pipeline, its version and its ports change together
        if cache is not None and state.ports.cache is None:
            state.ports = attrs.evolve(state.ports, cache=cache)
        state.pipeline, state.pipeline_version, state.loaded = loaded.pipeline, version, loaded
        log.info(
            "pipeline reloaded",
            extra={"why": why, "source": str(path), "version": version, "previous": running},
        )
        return "reloaded"

    async def watch(self, interval: float) -> None:
        current = self.state.loaded
        assert current is not None
        seen, settled = signature(current.path), True
        while True:
            await trio.sleep(interval)
            now = signature(current.path)
            if now != seen:  # changed: wait until it holds still for an interval
                seen, settled = now, False
            elif not settled and now is not None:
                settled = True
                await self.reload("file changed")

    async def on_sighup(self) -> None:
        with trio.open_signal_receiver(signal.SIGHUP) as signals:
            async for _ in signals:
                await self.reload("SIGHUP")
