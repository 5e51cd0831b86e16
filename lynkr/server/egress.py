"""The egress writer: an answer's events out to the client as body frames, and its end.

It owns three things and nothing else. Coalescing: a reader task moves the upstream's batches
into a channel and the writer sends whatever has piled up in one write (when the upstream is
slower than the client, the usual case, every read goes out at once; when reads arrive faster
than they can be written they merge instead of queueing one write each); ``coalesce: false``
writes one frame per event instead. Keep-alive pings: after ``ping_s`` seconds of upstream
silence a ``Ping`` event is rendered, so clients and proxies in between keep the stream open.
The stream's end: the renderer's closing bytes in the last frame (``more_body: False``).
Every batch is shown to the stream taps before it is written; they never delay it.
A failure of the upstream's event stream itself after the first byte (a bug in a parser or a
transport: the known upstream faults already arrive as ``StreamError`` events) becomes a
``StreamError`` too, so the client sees the dialect's error frame and the stream's end, never a
silent cut; the log has the traceback under the request id.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Sequence

import trio

from lynkr.formats.fold import Folder
from lynkr.model.errors import LynkrError
from lynkr.model.events import Event, MessageDelta, Ping, StreamError
from lynkr.model.response import Response
from lynkr.observability.record import RequestRecord
from lynkr.ports import StreamTap
from lynkr.server.asgi import Send
from lynkr.server.dialect import StreamRenderer

log = logging.getLogger("lynkr.egress")


class EgressWriter:
    def __init__(self, send: Send, renderer: StreamRenderer, taps: Sequence[StreamTap], *,
                 coalesce: bool = True, ping_s: float = 0.0, request_id: str = "") -> None:
        self._request_id = request_id
        self._broken = False
        self._send = send
        self._renderer = renderer
        self._taps = tuple(taps)
        self._coalesce = coalesce
        self._ping_s = ping_s

    def write(self, first: list[Event], rest: AsyncIterator[list[Event]],
              nursery: trio.Nursery) -> Awaitable[None]:
        """``first`` and every later batch, as body frames; the reader of ``rest`` runs in
        ``nursery`` (the request's, so a client going away cancels it too). Returns the
        writing coroutine itself (no wrapper frame on the stream's every resumption)."""
        if self._coalesce and getattr(rest, "coalesced_reads", False):
            return self._write_direct(first, rest, nursery)
        if self._coalesce:
            return self._write_coalesced(first, rest, nursery)
        return self._write_uncoalesced(first, rest)

    async def _next_read(self, rest: AsyncIterator[list[Event]]) -> list[Event] | None:
        """The upstream's next batch; None at its end. Its top-level guard: an event stream
        that raises (logged with its trace) ends with an error event, never a silent cut."""
        if self._broken:
            return None
        try:
            return await anext(rest)
        except StopAsyncIteration:
            return None
        except LynkrError as exc:  # a known fault the transport raised instead of reporting
            log.warning("the upstream event stream failed mid-answer: %s", exc.message,
                        extra={"request_id": self._request_id})
            self._broken = True
            return [StreamError(exc.anthropic_type, exc.message)]
        except Exception:
            log.exception("the upstream event stream failed mid-answer",
                          extra={"request_id": self._request_id})
            self._broken = True
            return [StreamError("api_error", "the answer broke off inside the proxy; its log "
                                             f"has the details under {self._request_id}")]

    async def _write_uncoalesced(self, first: list[Event], rest: AsyncIterator[list[Event]]
                                 ) -> None:
        await self._write_each(first)
        while (events := await self._next_read(rest)) is not None:
            await self._write_each(events)

    async def end(self) -> None:
        """The last frame: whatever the dialect closes a stream with."""
        await self._send({"type": "http.response.body", "body": self._renderer.finish(),
                          "more_body": False})

    async def _write(self, events: list[Event]) -> None:
        for tap in self._taps:
            tap.observe(events)
        await self._send({"type": "http.response.body", "body": self._renderer.render(events),
                          "more_body": True})

    async def _write_direct(self, first: list[Event], rest: AsyncIterator[list[Event]],
                            nursery: trio.Nursery) -> None:
        """For a stream whose every read already holds all that had arrived (the lean
        transport's): each read written as it comes, in this task (no reader task, no channel:
        while a write waits, the upstream's bytes wait in the socket and the next read takes
        them all). Pings come from a timer task that writes only between two writes."""
        pinger = trio.CancelScope()
        stopped = trio.Event()
        self._last = trio.current_time()
        self._writing = False
        self._pinging: trio.Event | None = None
        if self._ping_s > 0:
            nursery.start_soon(self._pings, pinger, stopped)
        else:
            stopped.set()
        try:
            self._writing = True
            await self._write(first)
            self._writing = False
            self._last = trio.current_time()
            while (events := await self._next_read(rest)) is not None:
                if self._pinging is not None:
                    await self._pinging.wait()
                self._writing = True
                await self._write(events)
                self._writing = False
                self._last = trio.current_time()
        finally:
            pinger.cancel()
            with trio.CancelScope(shield=True):
                await stopped.wait()

    async def _pings(self, scope: trio.CancelScope, stopped: trio.Event) -> None:
        """A ``Ping`` after each ``ping_s`` without a write (never during one)."""
        try:
            with scope:
                while True:
                    await trio.sleep_until(self._last + self._ping_s)
                    now = trio.current_time()
                    if now < self._last + self._ping_s:
                        continue
                    if self._writing:  # a write in flight: the stream is not silent
                        self._last = now
                        continue
                    pinging = self._pinging = trio.Event()
                    try:
                        await self._write([Ping()])
                    finally:
                        self._pinging = None
                        pinging.set()
                    self._last = trio.current_time()
        finally:
            stopped.set()

    async def _write_each(self, events: list[Event]) -> None:
        for tap in self._taps:
            tap.observe(events)
        for event in events:
            await self._send({"type": "http.response.body",
                              "body": self._renderer.render([event]), "more_body": True})

    async def _write_coalesced(self, first: list[Event], rest: AsyncIterator[list[Event]],
                               nursery: trio.Nursery) -> None:
        sender, receiver = trio.open_memory_channel[list[Event]](math.inf)
        reading = trio.CancelScope()
        finished = trio.Event()

        async def pump() -> None:
            try:
                with reading:
                    async with sender:
                        while (events := await self._next_read(rest)) is not None:
                            await sender.send(events)
            finally:
                finished.set()

        nursery.start_soon(pump)
        try:
            await self._write(first)
            async with receiver:
                while (batch := await self._next_batch(receiver)) is not None:
                    while True:
                        try:
                            batch = batch + receiver.receive_nowait()
                        except (trio.WouldBlock, trio.EndOfChannel):
                            break
                    await self._write(batch)
        finally:
            # the writer failed or was cancelled: the reader must be gone before the
            # upstream stream is closed under it
            reading.cancel()
            with trio.CancelScope(shield=True):
                await finished.wait()

    async def _next_batch(self, receiver: trio.MemoryReceiveChannel[list[Event]]
                          ) -> list[Event] | None:
        """The next read's events; a ``Ping`` after ``ping_s`` of silence; None at the end."""
        try:
            if self._ping_s <= 0:
                return await receiver.receive()
            with trio.move_on_after(self._ping_s):
                return await receiver.receive()
            return [Ping()]
        except trio.EndOfChannel:
            return None


class RecordTap:
    """The request's record hears of the answer's usage and of an error that ended it."""

    wants_result = False

    def __init__(self, record: RequestRecord) -> None:
        self._record = record

    def observe(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, MessageDelta):
                self._record.usage = event.usage
            elif isinstance(event, StreamError):
                self._record.stream_error = event.message

    def completed(self, response: Response) -> None:
        return None


class FoldTap:
    """Folds the answer as it goes out, for the taps (and dialects) that want it whole; an
    error that ended the answer is kept aside in ``error`` (a stream has already started)."""

    wants_result = False

    def __init__(self) -> None:
        self.folder = Folder()
        self.error: StreamError | None = None

    def observe(self, events: list[Event]) -> None:
        add = self.folder.add
        for event in events:
            if isinstance(event, StreamError):
                self.error = self.error or event
            else:
                add(event)

    def completed(self, response: Response) -> None:
        return None

    def result(self) -> Response:
        return self.folder.result()
