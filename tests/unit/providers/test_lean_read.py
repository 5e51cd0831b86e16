"""``lean_read.Reader`` on real trio socket pairs: a read at once or after a wait, the read
timeout, cancellation while waiting and with data waiting, trio's errors, and a connection that
always has data still yielding to the other tasks."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import trio

from lynkr.providers import lean_read
from lynkr.providers.lean_read import Reader


class Steps(trio.abc.Instrument):
    """Counts task steps: a task's step ends each time it yields to the scheduler."""

    def __init__(self) -> None:
        self.count = 0

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        self.count += 1


@contextmanager
def pair() -> Iterator[tuple[socket.socket, trio.SocketStream]]:
    """A plain socket to write with, and the trio stream a Reader reads; both closed after."""
    ours, theirs = socket.socketpair()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(theirs))
    try:
        yield ours, stream
    finally:
        ours.close()
        stream.socket.close()


async def test_data_waiting_is_read_at_once_and_an_empty_socket_is_waited_for() -> None:
    with pair() as (writer, stream):
        reader = Reader(stream)
        writer.sendall(b"first")
        assert await reader.receive(1.0) == b"first"

        async def later() -> None:
            await trio.sleep(0.05)
            writer.sendall(b"second")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            assert await reader.receive(1.0) == b"second"
        writer.close()
        assert await reader.receive(1.0) == b""  # the peer's end


async def test_nothing_within_read_s_is_none_and_the_wait_is_bounded() -> None:
    with pair() as (_writer, stream):
        started = trio.current_time()
        assert await Reader(stream).receive(0.1) is None
        assert 0.09 <= trio.current_time() - started < 1.0


async def test_a_cancelled_wait_raises_cancelled_and_leaves_the_socket_usable() -> None:
    with pair() as (writer, stream):
        reader = Reader(stream)
        with trio.move_on_after(0.05) as scope:
            await reader.receive(None)
        assert scope.cancelled_caught
        writer.sendall(b"after")
        assert await reader.receive(1.0) == b"after"


async def test_a_read_in_a_cancelled_scope_raises_even_with_data_waiting() -> None:
    with pair() as (writer, stream):
        reader = Reader(stream)
        writer.sendall(b"kept")
        with trio.CancelScope() as scope:
            scope.cancel()
            await reader.receive(1.0)
            pytest.fail("the read did not see the cancellation")
        assert await reader.receive(1.0) == b"kept"  # nothing was consumed


async def test_errors_are_trios_stream_errors_with_trios_messages() -> None:
    with pair() as (writer, stream):
        reader = Reader(stream)
        writer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()  # linger 0: a reset, where the platform has one; else the end
        try:
            assert await reader.receive(1.0) == b""
        except trio.BrokenResourceError as exc:
            assert str(exc).startswith("socket connection broken: ")
        stream.socket.close()
        with pytest.raises(trio.ClosedResourceError, match="this socket was already closed"):
            await reader.receive(1.0)


async def test_a_socket_closed_while_waited_on_wakes_the_reader() -> None:
    with pair() as (_writer, stream):
        reader = Reader(stream)

        async def close_soon() -> None:
            await trio.sleep(0.05)
            stream.socket.close()  # trio's close notifies the waiter

        async with trio.open_nursery() as nursery:
            nursery.start_soon(close_soon)
            with pytest.raises(trio.ClosedResourceError):
                await reader.receive(5.0)


async def test_a_connection_that_always_has_data_lets_other_tasks_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every read finds data waiting (the writer filled the buffer before): the reader must
    still yield to the scheduler, at most YIELD_EVERY reads apart (full reads: every read)."""
    monkeypatch.setattr(lean_read, "READ_SIZE", 1024)
    with pair() as (writer, stream):
        writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        writer.setblocking(False)
        filled = 0
        try:
            while filled < 512 * 1024:
                filled += writer.send(b"x" * 65536)
        except BlockingIOError:
            pass
        assert filled >= 64 * 1024
        reader = Reader(stream)
        steps = Steps()
        trio.lowlevel.add_instrument(steps)
        per_step: Counter[int] = Counter()
        got = 0
        for _ in range(filled):  # bounded, should the reader never yield
            if got >= filled:
                break
            data = await reader.receive(1.0)
            assert data
            got += len(data)
            per_step[steps.count] += 1
        trio.lowlevel.remove_instrument(steps)
    assert len(per_step) > 10 and max(per_step.values()) <= lean_read.YIELD_EVERY

