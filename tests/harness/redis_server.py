"""A real ``redis-server`` (Debian's package) on a free loopback port, for the shared-state
tests: started, killed (SIGKILL, as a crash) and started again on the same port.

Found as ``LYNKR_REDIS_SERVER`` or ``redis-server`` on PATH; absent, the tests that need it are
skipped with a message saying how to install it, except under CI=true, where they fail (CI
installs it: .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MISSING = (
    "redis-server not found: the shared-state tests need a real Redis "
    "(apt-get install redis-server, or set LYNKR_REDIS_SERVER to its path)"
)


def redis_binary() -> str | None:
    given = os.environ.get("LYNKR_REDIS_SERVER")
    return given if given and Path(given).is_file() else shutil.which("redis-server")


def require_redis() -> str:
    binary = redis_binary()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(MISSING + " (CI=true requires it)")
        pytest.skip(MISSING)
    return binary


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not come up")

    def kill(self) -> None:
        """SIGKILL: a crash, connections cut, state gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def command(self, *args: str) -> bytes:
        """One command over a plain socket (for assertions on what is stored)."""
        encoded = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args
        )
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(encoded)
            return s.recv(65536)


@contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    server = RedisServer(require_redis(), folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()
