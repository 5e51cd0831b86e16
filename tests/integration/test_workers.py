"""``lynkr start --workers 2`` as a real process: who listens, who gets the connections, and a
worker killed in the middle.

Reads the sockets from ``/proc`` (Linux): each worker's listening socket on the port, and the
connections each worker holds. Connections are raw keep-alive sockets held open while counted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import pytest
from test_cli_process import base_env, free_port, wait_live

T = TypeVar("T")
LISTEN, ESTABLISHED = "0A", "01"


def children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(name))
    return found


def sockets_on(port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets whose local port is ``port``, in ``state``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def held_by(pid: int, inodes: set[str]) -> set[str]:
    """Which of ``inodes`` the process ``pid`` has open."""
    mine = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return mine
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            mine.add(target[8:-1])
    return mine


def listeners(parent: int, port: int) -> dict[int, set[str]]:
    """Each child process of ``parent`` that holds a listening socket on ``port``: its sockets."""
    listening = sockets_on(port, LISTEN)
    found = {pid: held_by(pid, listening) for pid in children(parent)}
    return {pid: inodes for pid, inodes in found.items() if inodes}


def connections(pids: list[int], port: int) -> dict[int, int]:
    established = sockets_on(port, ESTABLISHED)
    return {pid: len(held_by(pid, established)) for pid in pids}


def wait_for(check: Callable[[], T | None], within: float, what: str) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {within} s")


def two_listening(parent: int, port: int) -> dict[int, set[str]] | None:
    found = listeners(parent, port)
    return found if len(found) == 2 else None


def ask(port: int) -> socket.socket:
    """A new connection that got its answer to ``GET /health/live`` and stays open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health/live HTTP/1.1\r\nhost: lynkr\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data
    return sock


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@contextmanager
def two_workers(tmp_path: Path, **env: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port, dead = free_port(), free_port()
    env = base_env(tmp_path, PORT=str(port), OLLAMA_ENDPOINT=f"http://127.0.0.1:{dead}",
                   LOG_LEVEL="warning", **env)
    process = subprocess.Popen([sys.executable, "-m", "lynkr", "start", "--workers", "2"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_live(f"http://127.0.0.1:{port}", process)
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        with suppress(ProcessLookupError):  # workers a failed test left behind (they would
            os.killpg(process.pid, signal.SIGKILL)  # hold the pipes open)
        process.communicate(timeout=10)


def spread(port: int, pids: list[int], count: int) -> dict[int, int]:
    with ExitStack() as stack:
        for _ in range(count):
            stack.callback(ask(port).close)
        return connections(pids, port)


def test_each_worker_listens_on_a_socket_of_its_own_and_connections_spread(
        tmp_path: Path) -> None:
    with two_workers(tmp_path) as (port, process):
        found = wait_for(lambda: two_listening(process.pid, port), 60, "two workers listening")
        inodes = [inode for held in found.values() for inode in held]
        assert len(inodes) == 2 and len(set(inodes)) == 2, found  # one each, not one shared
        # 16 connections made at once while both workers are idle: a shared socket let the
        # first worker awake take most of them; by hash, all 16 on one is a 1 in 32,768 chance
        held = spread(port, list(found), 16)
        assert sum(held.values()) == 16 and min(held.values()) > 0, held
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_a_killed_worker_leaves_the_group_at_once_and_its_successor_takes_its_place(
        tmp_path: Path) -> None:
    with two_workers(tmp_path) as (port, process):
        found = wait_for(lambda: two_listening(process.pid, port), 60, "two workers listening")
        victim, survivor = sorted(found)
        os.kill(victim, signal.SIGKILL)
        # the parent closes its copy of the dead worker's socket: nothing is left to queue
        # connections that nobody would accept until the successor is up
        wait_for(lambda: not (found[victim] & sockets_on(port, LISTEN)) or None, 5,
                 "the dead worker's socket closed")
        for _ in range(10):  # a new connection each, all answered by the survivor meanwhile
            ask(port).close()
        again = wait_for(lambda: two_listening(process.pid, port), 60, "a successor listening")
        assert survivor in again and victim not in again, again
        held = spread(port, list(again), 16)
        assert sum(held.values()) == 16 and min(held.values()) > 0, held
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "worker exited, starting another" in process.communicate(timeout=10)[1]


def test_workers_whose_parent_is_killed_drain_stop_and_free_the_port(tmp_path: Path) -> None:
    with two_workers(tmp_path, SHUTDOWN_DRAIN_DELAY_MS="300",
                     GRACEFUL_SHUTDOWN_TIMEOUT="2000") as (port, process):
        found = wait_for(lambda: two_listening(process.pid, port), 60, "two workers listening")
        process.kill()  # no word to the workers: they find out for themselves
        process.wait(timeout=10)
        wait_for(lambda: not any(alive(pid) for pid in found), 15, "the workers gone")
        assert not sockets_on(port, LISTEN)


def test_a_second_signal_to_the_parent_cuts_the_workers_drain_short(tmp_path: Path) -> None:
    with two_workers(tmp_path, SHUTDOWN_DRAIN_DELAY_MS="8000",
                     GRACEFUL_SHUTDOWN_TIMEOUT="10000") as (port, process):
        wait_for(lambda: two_listening(process.pid, port), 60, "two workers listening")
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # draining: the workers still accept, answering 503
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - signalled < 3.0  # not the rest of the 8 s drain


pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux /proc")
