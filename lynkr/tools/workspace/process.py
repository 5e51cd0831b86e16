"""Running a command for a workspace tool: bounded in time and in output.

Assumes: the caller built ``argv`` (never a shell string from the model; a configured test
command is run as ``sh -c`` by the caller on purpose).
Guarantees: the command runs in its own process group with no standard input and git's
prompts off; at ``timeout_s`` the whole group is killed and the result says so; at most
``cap`` bytes of each stream are kept (the rest is read and dropped, so the child never blocks
on a full pipe) and the result says how much was dropped. Never raises for a failing command:
only for one that cannot be started (``ProcessFailed``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from functools import partial

import attrs
import trio

DEFAULT_CAP = 64 * 1024
GRACE_S = 1.0  # after the command exits, for the rest of its output
QUIET = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_EDITOR": "true",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "LC_ALL": "C",
}


class ProcessFailed(RuntimeError):
    """The command could not be started at all."""


@attrs.frozen
class Completed:
    argv: tuple[str, ...]
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    dropped: int  # bytes read past the cap, both streams
    duration_s: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _leaf(group: BaseExceptionGroup[OSError]) -> OSError:
    first: BaseException = group
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, OSError)
    return first


class _Capped:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    async def drain(self, stream: trio.abc.ReceiveStream) -> None:
        async with stream:
            while chunk := await stream.receive_some(65536):
                room = self.cap - len(self.data)
                self.data += chunk[: max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


async def _kill_group(process: trio.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def run_command(
    argv: Sequence[str],
    cwd: str,
    timeout_s: float,
    *,
    cap: int = DEFAULT_CAP,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """Run ``argv`` in ``cwd``; see the module docstring for the bounds."""
    environment = {**os.environ, **QUIET, **(env or {})}
    out, err = _Capped(cap), _Capped(cap)
    started = time.monotonic()
    returncode: int | None = None
    try:
        async with trio.open_nursery() as nursery:
            process: trio.Process = await nursery.start(
                partial(
                    trio.run_process,
                    list(argv),
                    cwd=cwd,
                    env=environment,
                    check=False,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                    deliver_cancel=_kill_group,
                )
            )
            assert process.stdout is not None and process.stderr is not None
            with trio.move_on_after(timeout_s):
                async with trio.open_nursery() as readers:
                    readers.start_soon(out.drain, process.stdout)
                    readers.start_soon(err.drain, process.stderr)
                    code = await process.wait()
                    # what is left in the pipes, unless a detached child holds them open
                    readers.cancel_scope.deadline = min(
                        readers.cancel_scope.deadline, trio.current_time() + GRACE_S
                    )
                returncode = code
            nursery.cancel_scope.cancel()  # timed out: run_process kills the whole group
    except BaseExceptionGroup as group:
        matched, rest = group.split(OSError)
        if matched is None or rest is not None:
            raise
        error = _leaf(matched)
        raise ProcessFailed(f"{argv[0]}: {error.strerror or error}") from None
    return Completed(
        tuple(argv),
        returncode,
        out.text(),
        err.text(),
        out.dropped + err.dropped,
        time.monotonic() - started,
    )
