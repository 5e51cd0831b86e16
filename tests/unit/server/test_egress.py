"""The egress writer in-process on trio's MockClock: coalescing, pings, the stream's end, and
a failed write that stops the reader. Virtual time: each test takes milliseconds."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing
from harness.events import end, text_block

from lynkr.model.content import TextBlock
from lynkr.model.errors import UpstreamTimeout
from lynkr.model.events import BlockStop, Event, MessageStart, Ping, StreamError, TextDelta, Usage
from lynkr.model.response import Response
from lynkr.observability.record import RequestRecord
from lynkr.server.egress import EgressWriter, FoldTap, RecordTap


class Names:
    """A renderer that writes each event's name (and text), so frames are easy to read."""

    def render(self, events: list[Event]) -> bytes:
        return b"".join(f"{type(e).__name__}:{getattr(e, 'text', '')};".encode()
                        for e in events)

    def finish(self) -> bytes:
        return b"END"


class Wire:
    """``send``, recording each frame with the virtual time it was written."""

    def __init__(self, delay: float = 0.0, fail_after: int | None = None) -> None:
        self.frames: list[tuple[float, bytes, bool]] = []
        self.delay = delay
        self.fail_after = fail_after

    async def __call__(self, message: dict[str, Any]) -> None:
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise OSError("client socket closed")
        await trio.sleep(self.delay)
        self.frames.append((trio.current_time(), message["body"], message["more_body"]))


class Upstream:
    """Batches at virtual times: [(seconds after the previous batch, events), ...]."""

    def __init__(self, script: list[tuple[float, list[Event]]]) -> None:
        self.script = list(script)
        self.read = 0
        self.closed_while_reading = False

    def __aiter__(self) -> Upstream:
        return self

    async def __anext__(self) -> list[Event]:
        if not self.script:
            raise StopAsyncIteration
        delay, events = self.script.pop(0)
        await trio.sleep(delay)
        self.read += 1
        return events


class Coalesced(Upstream):
    """An upstream whose reads each hold all that had arrived (the lean transport's): the
    writer relays it in its own task."""

    coalesced_reads = True


KINDS = [Upstream, Coalesced]


def text(t: str) -> TextDelta:
    return TextDelta(0, t)


async def write(wire: Wire, upstream: Upstream, *, coalesce: bool = True, ping_s: float = 0.0,
                taps: list[Any] | None = None) -> None:
    writer = EgressWriter(wire, Names(), taps or [], coalesce=coalesce, ping_s=ping_s)
    async with trio.open_nursery() as nursery:
        await writer.write([text("a")], upstream, nursery)
        await writer.end()


@pytest.mark.parametrize("kind", KINDS)
async def test_each_read_goes_out_at_once_when_the_upstream_is_slower(
        autojump_clock: trio.testing.MockClock, kind: type[Upstream]) -> None:
    wire = Wire()
    await write(wire, kind([(1.0, [text("b")]), (1.0, [text("c"), text("d")])]))
    assert [(round(t), body) for t, body, _ in wire.frames] == [
        (0, b"TextDelta:a;"), (1, b"TextDelta:b;"), (2, b"TextDelta:c;TextDelta:d;"),
        (2, b"END")]
    assert [more for _, _, more in wire.frames] == [True, True, True, False]


async def test_reads_that_pile_up_during_a_slow_write_merge_into_one(
        autojump_clock: trio.testing.MockClock) -> None:
    wire = Wire(delay=1.0)  # the client reads slowly: three reads arrive meanwhile
    await write(wire, Upstream([(0.1, [text("b")]), (0.1, [text("c")]), (0.1, [text("d")])]))
    assert [body for _, body, _ in wire.frames] == [
        b"TextDelta:a;", b"TextDelta:b;TextDelta:c;TextDelta:d;", b"END"]


async def test_one_frame_per_event_without_coalescing(
        autojump_clock: trio.testing.MockClock) -> None:
    wire = Wire(delay=1.0)
    await write(wire, Upstream([(0.1, [text("b"), text("c")])]), coalesce=False)
    assert [body for _, body, _ in wire.frames] == [
        b"TextDelta:a;", b"TextDelta:b;", b"TextDelta:c;", b"END"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_ping_after_each_silence_of_ping_s(autojump_clock: trio.testing.MockClock,
                                                   kind: type[Upstream]) -> None:
    wire = Wire()
    await write(wire, kind([(25.0, [text("b")])]), ping_s=10.0)
    assert [(round(t), body) for t, body, _ in wire.frames] == [
        (0, b"TextDelta:a;"), (10, b"Ping:;"), (20, b"Ping:;"), (25, b"TextDelta:b;"),
        (25, b"END")]


@pytest.mark.parametrize("kind", KINDS)
async def test_no_pings_when_they_are_off(autojump_clock: trio.testing.MockClock,
                                          kind: type[Upstream]) -> None:
    wire = Wire()
    await write(wire, kind([(25.0, [text("b")])]), ping_s=0.0)
    assert b"Ping" not in b"".join(body for _, body, _ in wire.frames)


@pytest.mark.parametrize(("kind", "ping_s"), [(Upstream, 0.0), (Coalesced, 0.0), (Coalesced, 5.0)])
async def test_a_failed_write_stops_the_reader_before_it_returns(
        autojump_clock: trio.testing.MockClock, kind: type[Upstream], ping_s: float) -> None:
    upstream = kind([(1.0, [text("b")]), (1.0, [text("c")]), (100.0, [text("d")])])
    wire = Wire(fail_after=2)
    writer = EgressWriter(wire, Names(), [], coalesce=True, ping_s=ping_s)
    left: list[int] = []
    with pytest.RaisesGroup(pytest.RaisesExc(OSError, match="client socket closed")):
        async with trio.open_nursery() as nursery:
            try:
                await writer.write([text("a")], upstream, nursery)
            finally:
                left.append(len(nursery.child_tasks))
    assert left == [0]  # the reader (and the pinger) were gone when write returned
    assert trio.current_time() < 10  # nobody waited for the 100 s read
    assert upstream.read == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_taps_see_every_event_before_it_is_written(
        autojump_clock: trio.testing.MockClock, kind: type[Upstream]) -> None:
    record = RequestRecord("req_1", "anthropic", 0.0)
    fold = FoldTap()
    wire = Wire()
    usage = Usage(input_tokens=3, output_tokens=2)
    writer = EgressWriter(wire, Names(), [RecordTap(record), fold])
    async with trio.open_nursery() as nursery:
        await writer.write([MessageStart("msg_1", "m", Usage()), *text_block(0, "a")],
                           kind([(1.0, [text("b"), BlockStop(0)]),
                                     (1.0, end("end_turn", usage)),
                                     (1.0, [StreamError("api_error", "cut")])]), nursery)
    assert record.usage == usage
    assert record.stream_error == "cut"
    assert fold.result() == Response("msg_1", "m", (TextBlock("ab"),), "end_turn", usage)


async def test_ping_is_an_event_the_renderer_draws() -> None:
    assert Names().render([Ping()]) == b"Ping:;"


class Breaking(Coalesced):
    """Its script, then ``exc`` raised from the next read (a bug in a parser or transport)."""

    def __init__(self, script: list[tuple[float, list[Event]]], exc: Exception) -> None:
        super().__init__(script)
        self.exc = exc

    async def __anext__(self) -> list[Event]:
        if not self.script:
            raise self.exc
        return await super().__anext__()


@pytest.mark.parametrize(("coalesce", "direct"), [(True, False), (False, False), (True, True)])
@pytest.mark.parametrize(("exc", "error_type", "message"), [
    (ValueError("a parser bug"), "api_error",
     "the answer broke off inside the proxy; its log has the details under req_9"),
    (UpstreamTimeout("ollama: no data for 120s"), "timeout_error", "ollama: no data for 120s"),
])
async def test_an_upstream_stream_that_raises_ends_with_an_error_event(
        autojump_clock: trio.testing.MockClock, coalesce: bool, direct: bool, exc: Exception,
        error_type: str, message: str) -> None:
    record = RequestRecord("req_9", "anthropic", 0.0)
    seen: list[Event] = []
    wire = Wire()
    writer = EgressWriter(wire, Names(), [RecordTap(record), Seen(seen)], coalesce=coalesce,
                          request_id="req_9")
    async with trio.open_nursery() as nursery:
        upstream = Breaking([(1.0, [text("b")])], exc)
        upstream.coalesced_reads = direct
        await writer.write([text("a")], upstream, nursery)
        await writer.end()
    assert b"".join(body for _, body, _ in wire.frames) == \
        b"TextDelta:a;TextDelta:b;StreamError:;END"
    assert [more for _, _, more in wire.frames][-1] is False
    assert seen[-1] == StreamError(error_type, message)
    assert record.stream_error == message


class Seen:
    """A tap that keeps every event it is shown."""

    wants_result = False

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def observe(self, events: list[Event]) -> None:
        self.events.extend(events)

    def completed(self, response: Response) -> None:
        pass


async def test_a_direct_stream_writes_in_the_callers_task_and_pings_never_interleave(
        autojump_clock: trio.testing.MockClock) -> None:
    """No reader task; a ping due while a slow write is in flight waits for silence."""
    wire = Wire(delay=6.0)  # each write takes 6 s; pings are due 5 s after the last write
    upstream = Coalesced([(1.0, [text("b")]), (7.0, [text("c")])])
    writer = EgressWriter(wire, Names(), [], coalesce=True, ping_s=5.0)
    async with trio.open_nursery() as nursery:
        await writer.write([text("a")], upstream, nursery)
        assert len(nursery.child_tasks) == 0
        await writer.end()
    # b's write ends at 13; silence from 13 to 18: the ping starts at 18 (out at 24); c,
    # read at 20, waits for it and goes out at 30
    assert [(round(t), body) for t, body, _ in wire.frames] == [
        (6, b"TextDelta:a;"), (13, b"TextDelta:b;"), (24, b"Ping:;"), (30, b"TextDelta:c;"),
        (36, b"END")]
