"""``lynkr start --workers N``: N processes serving one listening socket, as one server.

Assumes: ``settings`` were validated and announced by the parent (environment, ``.env`` and
flags); each worker gets them whole (pickled by ``multiprocessing``'s spawn) and builds its own
state from them, so every setting and flag holds in every worker.
Guarantees: the parent binds the address (so the port is taken, or the error shown, before any
worker starts) and gives each worker a listening socket of its own on it, all bound with
``SO_REUSEPORT``: the kernel spreads new connections over the workers by a hash of each
connection's addresses and ports, whichever worker happens to wake first (one shared socket
let the first worker awake accept a whole burst of connections; measured in
``benchmarks/workers.py``). A worker that dies takes its socket's queue with it: the parent
closes its copy at once (new connections go to the other workers) and binds a fresh one for
the worker it starts in its place. SIGTERM or SIGINT to the
parent starts the same drain in every worker as one process does on the signal (readiness
503, new requests 503 for ``SHUTDOWN_DRAIN_DELAY_MS``, then in-flight requests finish within
``GRACEFUL_SHUTDOWN_TIMEOUT``); a second signal skips what is left of the drain; the parent
exits 0 once every worker has. Workers ignore SIGINT and SIGTERM themselves (a terminal's
Ctrl-C or a service manager reaching every process must not count twice) and SIGHUP is passed
on to them. A worker that dies while serving is started again. Metrics: the parent points
``PROMETHEUS_MULTIPROC_DIR`` at a folder of its own (an empty temporary one unless the variable
is set), so ``/metrics/prometheus`` on any worker reports the sum over all of them. Limits and
budgets are shared through the key database (SQLite, WAL) or Redis (``REDIS_URL``).
Never: lets a worker outlive the parent's deadline (killed after the graceful timeout), or the
parent itself: a worker whose parent was killed (SIGKILL, no word said) drains and stops as on
SIGTERM, so the port is freed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import attrs
import trio
from hypercorn.config import Config, Sockets

from lynkr.config.secrets import Scrubber, configured_secrets
from lynkr.config.settings import Settings
from lynkr.observability.logs import configure

log = logging.getLogger("lynkr.server")


@attrs.frozen
class MetricsFolder:
    path: Path
    ours: bool  # made by Lynkr (a temporary folder), removed at exit


def metrics_folder() -> MetricsFolder:
    """The multiprocess metrics folder, made or emptied, and named in the environment the
    workers inherit; called before anything in this process builds a metric."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # a previous run's counters must not be summed in
            stale.unlink()
        return MetricsFolder(folder, False)
    folder = Path(tempfile.mkdtemp(prefix="lynkr-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return MetricsFolder(folder, True)


def worker(settings: Settings, config: Config, sockets: Sockets, stop: Any, hurry: Any) -> None:
    """One worker process: the app of ``settings`` on the shared ``sockets``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # passed on by the parent: a reload, if any
    from lynkr.server.app import build_state
    from lynkr.server.serve import serve_app

    configure(settings.log_level, Scrubber(configured_secrets(settings)))
    for sock in sockets.insecure_sockets:
        sock.listen(config.backlog)
    events = iter((stop, hurry))
    parent = os.getppid()

    async def parent_says() -> None:
        event = next(events, None)
        while event is None or not event.is_set():
            if event is stop and os.getppid() != parent:  # the parent was killed: drain, stop
                return
            await trio.sleep(0.05)

    async def main() -> None:
        await serve_app(
            build_state(settings), config, handle_signals=False, sockets=sockets, drain=parent_says
        )

    trio.run(main)


def reuse_port(sockets: Sockets) -> Sockets:
    """Another set of sockets bound to the addresses of ``sockets`` (which hypercorn bound with
    ``SO_REUSEPORT``, as it does for more than one worker), not yet listening."""
    return Sockets([_again(s) for s in sockets.secure_sockets],
                   [_again(s) for s in sockets.insecure_sockets], [])


def _again(sock: socket.socket) -> socket.socket:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock  # a Unix socket: no port to reuse; that worker shares the first one
    again = socket.socket(sock.family, sock.type)
    try:
        again.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        again.bind(sock.getsockname())
    except OSError:
        again.close()
        raise
    again.setblocking(False)
    again.set_inheritable(True)
    return again


def run_workers(settings: Settings, config: Config, metrics: MetricsFolder) -> int:
    folder = metrics.path
    context = multiprocessing.get_context("spawn")
    stop, hurry = context.Event(), context.Event()
    first = config.create_sockets()  # the bind: a port in use fails here, before any worker
    slots = [first]
    processes: list[BaseProcess] = []
    signals = 0

    def start(index: int) -> BaseProcess:
        process = context.Process(target=worker,
                                  args=(settings, config, slots[index], stop, hurry))
        process.start()
        return process

    def on_signal(signum: int, frame: object) -> None:
        nonlocal signals
        signals += 1
        (stop if signals == 1 else hurry).set()

    def on_hangup(signum: int, frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGHUP)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, on_hangup)
    try:
        slots += [reuse_port(first) for _ in range(settings.workers - 1)]
        processes += [start(index) for index in range(settings.workers)]
        while not stop.is_set():
            wait([p.sentinel for p in processes], timeout=0.1)
            for index, process in enumerate(processes):
                if not process.is_alive() and not stop.is_set():
                    log.warning(
                        "worker exited, starting another",
                        extra={"pid": process.pid, "exitcode": process.exitcode},
                    )
                    _forget(folder, process.pid)
                    # its socket leaves the group (what it had queued is reset); until the
                    # new worker listens, new connections go to the others
                    fresh = reuse_port(slots[index])
                    _close(slots[index], unless=fresh)
                    slots[index] = fresh
                    processes[index] = start(index)
        for sockets in slots:  # the workers' copies alone now: closed after their drain,
            _close(sockets)    # then refused
        deadline = time.monotonic() + settings.drain_s + settings.graceful_timeout_s + 5
        for process in processes:
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                log.warning("worker did not stop in time; killing it", extra={"pid": process.pid})
                process.kill()
                process.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for sockets in slots:
            _close(sockets)
        if metrics.ours:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _close(sockets: Sockets, unless: Sockets | None = None) -> None:
    """Close ``sockets``, but not those carried over into ``unless`` (a Unix socket)."""
    kept = {id(s) for s in (*unless.insecure_sockets, *unless.secure_sockets)} if unless else set()
    for sock in (*sockets.insecure_sockets, *sockets.secure_sockets):
        if id(sock) not in kept:
            sock.close()


def _forget(folder: Path, pid: int | None) -> None:
    """A dead worker's live gauges leave the sums (its counters stay: they happened)."""
    if pid is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(folder))
