"""The tool loop's cost per streamed chunk, in process: no sockets, CPU time only (issue 17).

    python -m benchmarks.loop_chunk [--chunks 20000] [--rounds 5]

An answer of N reads of one text delta each (every read waits one trip through trio's
scheduler, as a socket read does) goes through ``EgressWriter.write`` with a send that does
nothing, once straight (an answer outside the tool loop) and once through ``ToolLoop.start``
(Lynkr's tools offered, none called: the usual answer of a client that sends tools), for a
stream whose reads are coalesced (the lean transport's: the egress reads in its own task) and
one whose reads are not (the egress's reader task). Prints the best round's process CPU µs per
chunk for each, and the loop's share. Measures only the relay of events (the renderer
included), nothing of the request's way in.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import trio

from lynkr.config.tools import ToolLoopSettings
from lynkr.formats.anthropic.sse import render_events
from lynkr.model.content import TextBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    MessageDelta,
    MessageStart,
    MessageStop,
    TextDelta,
    Usage,
)
from lynkr.model.request import Tool
from lynkr.observability.record import RequestRecord
from lynkr.server.egress import EgressWriter
from lynkr.server.tool_loop import Tooling, ToolLoop
from lynkr.server.upstream_call import Opened
from lynkr.tools.offer import Offer, Offered
from lynkr.tools.port import ToolContext


class Reads:
    """N one-delta reads, then the answer's end."""

    def __init__(self, chunks: int, coalesced: bool) -> None:
        self.coalesced_reads = coalesced
        self._chunks = chunks
        self._done = 0

    def __aiter__(self) -> Reads:
        return self

    async def __anext__(self) -> list[Event]:
        await trio.lowlevel.checkpoint()
        self._done += 1
        if self._done <= self._chunks:
            return [TextDelta(0, "tok ")]
        if self._done == self._chunks + 1:
            return [BlockStop(0), MessageDelta("end_turn", Usage(1, self._chunks)), MessageStop()]
        raise StopAsyncIteration


class Renderer:
    def render(self, events: list[Event]) -> bytes:
        return render_events(events)

    def finish(self) -> bytes:
        return b""


async def _discard(message: Any) -> None:
    return None


def _tooling() -> Tooling:
    offer = Offer((Offered("memory", Tool("memory_add")),), ())
    return Tooling(ToolLoopSettings(), offer, {}, None, "s", 0, frozenset(),
                   ToolContext("r", None, "u", "", 0.0), 0)


async def one(chunks: int, loop: bool, coalesced: bool) -> float:
    """Process CPU µs per chunk of one answer."""
    first: list[Event] = [MessageStart("m", "x", Usage(1)), BlockStart(0, TextBlock(""))]
    stream: Any = Reads(chunks, coalesced)
    writer = EgressWriter(_discard, Renderer(), [], coalesce=True, ping_s=0)
    started = time.process_time()
    async with trio.open_nursery() as nursery:
        if loop:
            opened = Opened(stream, first, None)  # type: ignore[arg-type]  # no later step
            record = RequestRecord("r", "anthropic", 0.0)
            first, stream = ToolLoop(None, _tooling(), record, None).start(  # type: ignore[arg-type]
                opened, nursery)
        await writer.write(first, stream, nursery)
    return (time.process_time() - started) / chunks * 1e6


async def run(args: argparse.Namespace) -> None:
    for coalesced in (True, False):
        best = {}
        for loop in (False, True):
            best[loop] = min([await one(args.chunks, loop, coalesced)
                              for _ in range(args.rounds)])
        print(f"coalesced reads {'yes' if coalesced else 'no '}: outside the loop "
              f"{best[False]:.2f} µs/chunk, through it {best[True]:.2f} µs/chunk "
              f"(the loop's part {best[True] - best[False]:.2f} µs)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the tool loop's CPU per streamed chunk")
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    trio.run(run, parser.parse_args(argv))


if __name__ == "__main__":
    main()
