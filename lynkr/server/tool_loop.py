"""The server-side tool loop: Lynkr's own tools offered beside the client's, run when the model
calls them, and the model called again, while the client's stream goes on as ONE answer.

Before the pipeline (``prepare_tools``): the history's earlier legs are restored where the model
saw them (``lynkr.tools.legs``), and the session's offered set (``lynkr.tools.offer``) is added
after the client's tools. After the first upstream read (``ToolLoop.start``): each step's
events are edited into the one answer (``lynkr.tools.steps``), the first step's in the task
that reads the answer (the egress's: no task, no channel for an answer that calls none of
Lynkr's tools), the later steps' in a producer task in the request's nursery. When a step
ends with calls to Lynkr's tools only, they are run (``lynkr.tools.calls``) and shown, the
model's turn and the results are appended to the upstream request, and the same provider is
opened again (``upstream_call.open_step``: retries and breaker, no fallback once the answer
has started), up to ``POLICY_MAX_STEPS`` model calls. A step that also calls a client tool ends
the answer with it: the client runs its tools, Lynkr has run its own (their results wait in
front of the client's, next turn). Past the bound, calls are answered "not run" and the answer
ends (``end_turn``). A failure to reach the model in a later step ends the stream with the
dialect's error frame, as any mid-stream failure does.

Reported: each call in the log (``lynkr.tools``), in the request's record (its log line and
the ``lynkr_tool_*`` metrics), and ``x-lynkr-tools`` (the mode and offered set; the calls too
for a non-streamed answer, whose headers go out after it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import attrs
import trio

from lynkr.config.tools import ToolLoopSettings
from lynkr.model.content import TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.events import Event, StreamError
from lynkr.model.request import Message, Request
from lynkr.observability.record import RequestRecord, ToolCallFacts
from lynkr.ports import Answering, EventBatches, SessionStore
from lynkr.server.state import AppState
from lynkr.server.upstream_call import Opened, open_step
from lynkr.stages.exchange import Exchange
from lynkr.stages.memory_scope import exchange_scope
from lynkr.stages.session import session_key
from lynkr.tools.calls import CallReport, run_calls
from lynkr.tools.legs import (
    LEG_KEY,
    LEGS_KEY,
    Legs,
    decode_legs,
    decode_places,
    encode_legs,
    encode_places,
    needs_restoring,
    restore,
)
from lynkr.tools.offer import OFFERED_KEY, Offer, Offered, decide_offer
from lynkr.tools.port import ToolBox, ToolContext
from lynkr.tools.steps import AnswerEditor, StepEnd

log = logging.getLogger("lynkr.tools")
HEADER = b"x-lynkr-tools"


@attrs.frozen
class Tooling:
    """One request's part in the tool loop, decided before the pipeline."""

    settings: ToolLoopSettings
    offer: Offer
    boxes: Mapping[str, ToolBox]
    store: SessionStore | None
    session: str  # the SessionStore's key of the session
    place: int  # where this answer will sit in the client's history
    places: frozenset[int]  # where the session's kept legs sit
    context: ToolContext
    restored: int  # earlier answers whose legs were put back

    def header(self) -> str:
        parts = [
            f"mode={self.settings.mode}",
            "offered=" + (",".join(o.tool.name for o in self.offer.tools) or "none"),
        ]
        if self.offer.skipped:
            parts.append("skipped=" + ",".join(self.offer.skipped) + " (the client has its own)")
        if self.restored:
            parts.append(f"restored={self.restored}")
        return "; ".join(parts)


def prepare_tools(
    settings: ToolLoopSettings,
    boxes: tuple[ToolBox, ...],
    store: SessionStore | None,
    exchange: Exchange,
    default_user: str = "default",
) -> tuple[Request, Tooling | None]:
    """The client's request with its earlier legs restored and Lynkr's tools added; None when
    this request takes no part in the loop (then it only has presentation blocks rebuilt)."""
    request = exchange.request
    if not (settings.offers_tools and boxes and request.tools) or _declines(request):
        if needs_restoring(request.messages, frozenset()):
            messages, _ = restore(request.messages, lambda place, message: None)
            request = attrs.evolve(request, messages=messages)
        return request, None
    session = session_key(exchange)
    kept = store.get(session, OFFERED_KEY) if store is not None else None
    current = [Offered(box.name, tool) for box in boxes for tool in box.tools()]
    offer = decide_offer(request.tools, current, kept)
    if offer.stored is not None and store is not None:
        store.put(session, OFFERED_KEY, offer.stored)
    places = decode_places(store.get(session, LEGS_KEY)) if store is not None else frozenset()
    restored = 0
    messages = request.messages
    if needs_restoring(messages, places):

        def kept_legs(place: int, message: Message) -> Legs | None:
            if store is None or place not in places:
                return None
            text = store.get(session, LEG_KEY.format(place))
            return decode_legs(text, place, message) if text is not None else None

        messages, restored = restore(messages, kept_legs)
    scope = exchange_scope(exchange, default_user)  # whose memories, as memory's stages say
    context = ToolContext(
        exchange.context.request_id,
        exchange.context.session_id,
        scope.user,
        scope.workspace,
        time.time(),
    )
    tooling = Tooling(
        settings,
        offer,
        {box.name: box for box in boxes},
        store,
        session,
        len(request.messages),
        places,
        context,
        restored,
    )
    return attrs.evolve(
        request, messages=messages, tools=request.tools + tuple(o.tool for o in offer.tools)
    ), tooling


def _declines(request: Request) -> bool:
    """A request that asks for no tool calls at all (``tool_choice: none``)."""
    return (request.tool_choice or {}).get("type") == "none"


class ToolLoop:
    """The producer of one answer's events across the loop's steps."""

    def __init__(
        self, state: AppState, tooling: Tooling, record: RequestRecord, answering: Answering
    ) -> None:
        self._state = state
        self._tooling = tooling
        self._record = record
        self._answering = answering
        self._editor = AnswerEditor(tooling.offer.names)
        self._legs: list[Message] = []

    def start(self, opened: Opened, nursery: trio.Nursery) -> tuple[list[Event], AnswerEvents]:
        """The first step's first events as the client sees them, and the rest of the answer:
        read by whoever iterates it (the first step in that task; a producer task in
        ``nursery`` only for the steps after one that called Lynkr's tools)."""
        return self._editor.feed(opened.first), AnswerEvents(self, opened, nursery)

    def _end_step(self) -> StepEnd:
        end = self._editor.end_step()
        self._record.tool_steps = self._editor.steps
        return end

    def _failed(self, exc: Exception) -> list[Event]:
        """The answer's top-level guard: an error frame, not a cut (the trace in the log)."""
        log.error(
            "the tool loop failed", exc_info=exc, extra={"request_id": self._record.request_id}
        )
        message = (
            getattr(exc, "message", None)
            or "the tool loop failed inside the "
            f"proxy; its log has the details under {self._record.request_id}"
        )
        return [StreamError(getattr(exc, "anthropic_type", "api_error"), message)]

    async def _produce(
        self, exchange: Exchange, end: StepEnd, sender: trio.MemorySendChannel[list[Event]]
    ) -> None:
        """The steps after the first (which ended with ``end``: calls to Lynkr's tools)."""
        async with sender:
            try:
                await self._steps(exchange, end, sender)
            except Exception as exc:  # the answer's top-level guard
                await sender.send(self._failed(exc))

    async def _steps(
        self, exchange: Exchange, end: StepEnd, sender: trio.MemorySendChannel[list[Event]]
    ) -> None:
        max_steps = self._tooling.settings.max_steps
        while end.error is None and end.lynkr_calls:
            if end.client_calls or self._editor.steps >= max_steps:
                # the answer ends here: beside a client call Lynkr's calls run and their
                # results wait for the client's; past the bound they are answered "not run"
                results = (
                    await self._run(end)
                    if end.client_calls
                    else _not_run(end.lynkr_calls, max_steps)
                )
                await sender.send(self._editor.results(results))
                self._keep(end, results)
                await sender.send(
                    self._editor.finish(end.stop_reason if end.client_calls else "end_turn")
                )
                return
            results = await self._run(end)
            await sender.send(self._editor.results(results))
            answered = Message("user", tuple(results))
            self._legs += [end.turn, answered]
            upstream = exchange.request
            exchange = attrs.evolve(
                exchange,
                request=attrs.evolve(upstream, messages=(*upstream.messages, end.turn, answered)),
            )
            async with open_step(self._state, exchange, self._answering, self._record) as following:
                first = self._editor.feed(following.first)
                if first:
                    await sender.send(first)
                end = await self._pump(following.stream, sender)
        if end.error is None:
            if self._legs:
                self._keep(end, [])
            await sender.send(self._editor.finish(end.stop_reason, end.stop_sequence))

    async def _pump(
        self, stream: EventBatches, sender: trio.MemorySendChannel[list[Event]]
    ) -> StepEnd:
        async for batch in stream:
            out = self._editor.feed(batch)
            if out:
                await sender.send(out)
        return self._end_step()

    async def _run(self, end: StepEnd) -> list[ToolResultBlock]:
        tooling = self._tooling
        owners = {o.tool.name: o.box for o in tooling.offer.tools}
        context = attrs.evolve(tooling.context, now=time.time())
        results, reports = await run_calls(
            end.lynkr_calls, owners, tooling.boxes, context, tooling.settings, end.bad_inputs
        )
        for report in reports:
            self._report(report)
        return results

    def _report(self, report: CallReport) -> None:
        facts = ToolCallFacts(
            report.tool, report.box, report.seconds * 1000, report.outcome, self._editor.steps
        )
        self._record.tool_calls.append(facts)
        log.info("tool call", extra={"request_id": self._record.request_id, **attrs.asdict(facts)})

    def _keep(self, end: StepEnd, pending: list[ToolResultBlock]) -> None:
        """The answer's legs, kept for the session (for clients that drop the blocks)."""
        tooling = self._tooling
        store = tooling.store
        if store is None:
            return
        legs = Legs((*self._legs, end.turn), tuple(pending))
        if not end.turn.content and self._legs:  # an empty last turn cannot be sent again:
            legs = Legs(tuple(self._legs[:-1]), self._legs[-1].content)  # results go on
        shown = self._editor.kept_by_every_client()
        place = tooling.place
        store.put(tooling.session, LEG_KEY.format(place), encode_legs(place, shown, legs))
        store.put(tooling.session, LEGS_KEY, encode_places(tooling.places | {place}))


def _not_run(calls: tuple[ToolUseBlock, ...], max_steps: int) -> list[ToolResultBlock]:
    return [
        ToolResultBlock(
            c.id,
            (
                TextBlock(
                    f"not run: this answer reached POLICY_MAX_STEPS ({max_steps} model calls)"
                ),
            ),
            True,
        )
        for c in calls
    ]


class AnswerEvents:
    """The answer's batches (``EventBatches``), read in the task that iterates them.

    The first step is read right here: each upstream read goes through the editor in the
    reader's own task (the egress's), so an answer that calls none of Lynkr's tools (the usual
    one) costs no task, no channel and no trip through the scheduler beyond the upstream's own.
    Only when that step ends with calls to Lynkr's tools does a producer task start in
    ``nursery`` (the request's: a client going away cancels it too) for the following steps;
    their batches are then drained from its channel, each read taking all that has arrived
    (so ``coalesced_reads`` holds as it does for the upstream's own stream).
    Never: holds a cancel scope or a nursery across a return (a cancelled reader stops the
    upstream read at once), or reads on after the answer's error frame.
    """

    def __init__(self, loop: ToolLoop, opened: Opened, nursery: trio.Nursery) -> None:
        self._loop = loop
        self._opened = opened
        self._nursery = nursery
        self._following: trio.MemoryReceiveChannel[list[Event]] | None = None
        self._first_over = False
        self.coalesced_reads = getattr(opened.stream, "coalesced_reads", False)

    def __aiter__(self) -> AnswerEvents:
        return self

    async def __anext__(self) -> list[Event]:
        if self._following is not None:
            batch = await _take(self._following)
        elif self._first_over:
            batch = None
        else:
            try:
                batch = await self._first_step()
            except Exception as exc:  # the answer's top-level guard, as in ``_produce``
                self._first_over = True
                batch = self._loop._failed(exc)
        if batch is None:
            raise StopAsyncIteration
        return batch

    async def _first_step(self) -> list[Event] | None:
        """The first step's next events for the client; at its end, the answer's end or the
        following steps' first events."""
        stream = self._opened.stream
        feed = self._loop._editor.feed
        while True:
            try:
                batch = await anext(stream)
            except StopAsyncIteration:
                break
            out = feed(batch)
            if out:
                return out
        self._first_over = True
        loop = self._loop
        end = loop._end_step()
        if end.error is not None:
            return None
        if not end.lynkr_calls:
            return loop._editor.finish(end.stop_reason, end.stop_sequence)
        sender, self._following = trio.open_memory_channel[list[Event]](16)
        self._nursery.start_soon(loop._produce, self._opened.exchange, end, sender)
        return await _take(self._following)


async def _take(receiver: trio.MemoryReceiveChannel[list[Event]]) -> list[Event] | None:
    """The next batch and all that has arrived behind it; None at the channel's end."""
    try:
        batch = await receiver.receive()
    except trio.EndOfChannel:
        return None
    while True:
        try:
            batch = batch + receiver.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel):
            return batch
