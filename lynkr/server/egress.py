"""The egress writer: an answer's events out to the client as body frames, and its end.

It owns three things and nothing else. Coalescing: a reader task moves the upstream's batches
into a channel and the writer sends whatever has piled up in one write (when the upstream is
slower than the client, the usual case, every read goes out at once; when reads arrive faster
than they can be written they merge instead of queueing one write each); ``coalesce: false``
writes one frame per event instead. Keep-alive pings: after ``ping_s`` seconds of upstream
silence a ``Ping`` event is rendered, so clients and proxies in between keep the stream open.
The stream's end: the renderer's closing bytes in the last frame (``more_body: False``).
Every batch is shown to the stream taps before it is written; they never delay it.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Sequence

import trio

from lynkr.formats.fold import Folder
from lynkr.model.events import Event, MessageDelta, Ping, StreamError
from lynkr.model.response import Response
from lynkr.observability.record import RequestRecord
from lynkr.ports import StreamTap
from lynkr.server.asgi import Send
from lynkr.server.dialect import StreamRenderer


class EgressWriter:
    def __init__(self, send: Send, renderer: StreamRenderer, taps: Sequence[StreamTap], *,
                 coalesce: bool = True, ping_s: float = 0.0) -> None:
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
        if self._coalesce:
            return self._write_coalesced(first, rest, nursery)
        return self._write_uncoalesced(first, rest)

    async def _write_uncoalesced(self, first: list[Event], rest: AsyncIterator[list[Event]]
                                 ) -> None:
        await self._write_each(first)
        async for events in rest:
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
                        async for events in rest:
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
