"""One request through the proxy, whatever the client's dialect: its lifecycle.

read body → dialect parse → pipeline → upstream (``upstream_call``) → egress (``egress``, or
the whole answer folded). The request's ``RequestRecord`` moves through its phases as this goes
and is logged and counted once at the end. Errors before the response starts are answered in
the client's dialect with the right status; after it starts they end the stream with the
dialect's error frame. A client that goes away cancels the upstream call. Nothing here knows a
wire format (a ``Dialect`` supplies them) or a stage (stream taps are declared by the pipeline,
and this only iterates them).
"""

from __future__ import annotations

import logging
import time

import attrs
import trio

from lynkr.config.limits import Limits
from lynkr.formats.fold import stream_error
from lynkr.model.errors import LynkrError, UpstreamError, UpstreamTimeout
from lynkr.model.events import Event
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.observability.record import RequestRecord, log_fields
from lynkr.pipeline.compile import Pipeline
from lynkr.pipeline.runner import run_stages
from lynkr.ports import Answering, StreamTap
from lynkr.server.asgi import (
    Receive,
    Scope,
    Send,
    header,
    header_value,
    read_body,
    request_id,
    send_json,
)
from lynkr.server.auth import USER
from lynkr.server.dialect import Answer, ClientTurn, Dialect
from lynkr.server.egress import EgressWriter, FoldTap, RecordTap
from lynkr.server.errors import send_error
from lynkr.server.report import fallback_headers, pipeline_headers, route_facts, stage_reports
from lynkr.server.state import AppState
from lynkr.server.tool_loop import HEADER as TOOLS_HEADER
from lynkr.server.tool_loop import Tooling, ToolLoop, prepare_tools
from lynkr.server.upstream_call import Opened, open_answer
from lynkr.stages.exchange import CACHE_VERDICT, Context, Exchange, Note
from lynkr.stages.exchange import Dialect as DialectName
from lynkr.stages.memory_scope import WORKSPACE_HEADER

WORKSPACE = WORKSPACE_HEADER.encode()

log = logging.getLogger("lynkr.request")


async def handle(state: AppState, dialect: Dialect, scope: Scope, receive: Receive,
                 send: Send) -> None:
    record = RequestRecord(request_id(scope), dialect.name, trio.current_time(),
                           user=scope.get(USER))
    # the pipeline this request runs from start to end, whatever a reload swaps in meanwhile
    pipeline, version = state.pipeline, state.pipeline_version
    state.metrics.active_requests.inc()
    try:
        body = await read_body(receive, scope, state.settings)
        if state.recorder is not None:
            await state.recorder.record(scope["path"], scope["headers"], body)
        turn = await dialect.parse(body, scope)
        del body  # the bytes are not needed again; a stream may last minutes
        session = header(scope, b"x-claude-code-session-id") or header(scope, b"x-session-id")
        context = Context(record.request_id, dialect.name, session, turn.request.model,
                          user=record.user, workspace=header(scope, WORKSPACE) or "")
        # what the ingress could not carry, said in the headers and the log like a stage's note
        notes = (Note("ingress", "dropped " + ", ".join(turn.dropped)),) if turn.dropped else ()
        request, tooling = prepare_tools(state.tool_loop, state.toolboxes, state.ports.sessions,
                                         Exchange(turn.request, context),
                                         state.memory.default_user if state.memory else "default")
        exchange, timings = await run_stages(pipeline,
                                             Exchange(request, context, notes=notes),
                                             state.ports)
        assert exchange.route is not None
        record.routed(route_facts(exchange.route), stage_reports(exchange, timings),
                      exchange.annotations.get(CACHE_VERDICT), context.session_id,
                      context.client_model)
        headers = pipeline_headers(exchange, timings)
        if tooling is not None:
            headers.append((TOOLS_HEADER, header_value(tooling.header())))
        if version:
            headers.append((b"x-lynkr-pipeline", version.encode()))
        failure: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_disconnect, receive, nursery.cancel_scope, record)
            try:
                await _respond(state, pipeline, dialect, turn, exchange, headers, send, record,
                               nursery, Tools(request, tooling))
            except Exception as exc:  # carried out of the nursery unwrapped, handled below
                failure = exc
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
    except LynkrError as exc:
        await _fail(record, exc, send, exc.anthropic_type, dialect.name)
    except Exception:  # the top-level guard: a bug becomes a clean 500, never a trace
        log.exception("unhandled error", extra={"request_id": record.request_id})
        await _fail(record, LynkrError("internal error in the proxy; see its log for request "
                                       f"id {record.request_id}"), send, "internal",
                    dialect.name)
    finally:
        state.metrics.active_requests.dec()
    record.end(trio.current_time())
    if log.isEnabledFor(logging.INFO):  # the line is built only when it will be written
        log.info("request", extra=log_fields(record))
    state.metrics.observe(record)


async def _fail(record: RequestRecord, exc: LynkrError, send: Send, error_type: str,
                dialect: DialectName) -> None:
    if not record.finished:
        record.failed(exc.status, error_type, exc.message)
    if not record.started:
        await send_error(send, exc, record.request_id, dialect)


async def _watch_disconnect(receive: Receive, scope: trio.CancelScope,
                            record: RequestRecord) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # hypercorn also says "disconnect" once the whole response is out: only a
            # disconnect before that is a client going away
            if not record.finished:
                record.client_gone()
                scope.cancel()
            return


def _taps(state: AppState, pipeline: Pipeline, exchange: Exchange, record: RequestRecord
          ) -> list[StreamTap]:
    """The record's own tap, then each tap the pipeline's stages declare for this answer."""
    taps: list[StreamTap] = [RecordTap(record)]
    route = exchange.route
    if state.access is not None and route is not None and record.cache != "hit":
        # the key's and the session's usage, for limits and budgets (a cached answer costs none)
        taps.append(state.access.tap(record.user, exchange.context.session_id, route.provider,
                                     route.model))
    for bound in pipeline.taps:
        assert bound.spec.tap is not None
        tap = bound.spec.tap(exchange, bound.config, state.ports)
        if tap is not None:
            taps.append(tap)
    return taps


@attrs.frozen
class Tools:
    """The request as the pipeline got it (earlier legs restored, Lynkr's tools added), and
    its part in the tool loop (None: none)."""

    request: Request
    tooling: Tooling | None


async def _respond(state: AppState, pipeline: Pipeline, dialect: Dialect, turn: ClientTurn,
                   exchange: Exchange,
                   headers: list[tuple[bytes, bytes]], send: Send, record: RequestRecord,
                   nursery: trio.Nursery, tools: Tools) -> None:
    route = exchange.route
    assert route is not None
    rid = record.request_id
    headers = [(b"request-id", rid.encode()), (b"x-request-id", rid.encode()), *headers]
    model = exchange.context.client_model \
        if pipeline.egress.report_model == "client" else route.model
    answer = Answer(dialect.answer_id(rid), model, int(time.time()))
    answering = Answering("msg_" + rid.removeprefix("req_"), model)
    async with open_answer(state, exchange, tools.request, answering, record,
                           pipeline) as opened:
        if opened.exchange is not exchange:
            headers.extend(fallback_headers(opened.exchange))
        if tools.tooling is not None:  # the answer may take several model calls
            first, stream = ToolLoop(state, tools.tooling, record, answering).start(opened,
                                                                                     nursery)
            opened = attrs.evolve(opened, first=first, stream=stream)
        taps = _taps(state, pipeline, opened.exchange, record)
        streamed = exchange.request.stream
        fold = FoldTap() if not streamed or turn.wants_result \
            or any(t.wants_result for t in taps) else None
        if fold is not None:
            taps.append(fold)
        if not streamed:
            assert fold is not None
            bound = Bound(state.settings.limits, exchange.request.max_tokens,
                          (opened.exchange.route or route).provider)
            await _answer_whole(turn, answer, opened, taps, fold, headers, send, record, bound)
            return
        record.streaming(trio.current_time())
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", dialect.content_type), (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"), *headers]})
        writer = EgressWriter(send, turn.renderer(answer), taps,
                              coalesce=pipeline.egress.coalesce,
                              ping_s=pipeline.egress.ping_interval_s,
                              request_id=rid)
        state.metrics.active_streams.inc()
        try:
            await writer.write(opened.first, opened.stream, nursery)
        finally:
            state.metrics.active_streams.dec()
        # before the body ends: a client that reads to the end may send its next request
        # (previous_response_id) the moment it does, and once the last bytes are out the
        # server may cancel this task
        await _completed(turn, answer, fold.result() if fold is not None else None, taps,
                         record)
        record.done()
        await writer.end()


@attrs.frozen
class Bound:
    """How far a non-streamed answer may go: ``UPSTREAM_MAX_ANSWER_BYTES``, and a deadline that
    grows with ``max_tokens`` (an upstream that never finishes must not grow the proxy)."""

    limits: Limits
    max_tokens: int
    provider: str


async def _answer_whole(turn: ClientTurn, answer: Answer, opened: Opened,
                        taps: list[StreamTap], fold: FoldTap,
                        headers: list[tuple[bytes, bytes]], send: Send,
                        record: RequestRecord, bound: Bound) -> None:
    """A request without ``stream``: the answer folded within its ``bound``, then one JSON
    document."""
    limits = bound.limits
    deadline, cap = limits.answer_deadline_s(bound.max_tokens), limits.answer_max_bytes
    with trio.move_on_after(deadline) as waited:
        size, batch = 0, opened.first
        while True:
            size += sum(map(_payload_size, batch))
            for tap in taps:
                tap.observe(batch)
            if size > cap:
                raise UpstreamError(f"{bound.provider}: the answer grew beyond {cap} bytes "
                                    f"(UPSTREAM_MAX_ANSWER_BYTES); it was stopped")
            try:
                batch = await anext(opened.stream)
            except StopAsyncIteration:
                break
    if waited.cancelled_caught:
        raise UpstreamTimeout(
            f"{bound.provider}: the answer did not finish within {deadline:g}s (UPSTREAM_ANSWER_"
            f"TIMEOUT_MS + UPSTREAM_ANSWER_MS_PER_TOKEN x max_tokens {bound.max_tokens})")
    if fold.error is not None:  # nothing was sent yet: an HTTP error after all
        raise stream_error(fold.error)
    whole = fold.result()
    await _completed(turn, answer, whole, taps, record)
    record.streaming(trio.current_time())
    record.done()
    if record.tool_calls:  # the headers go out after the whole answer: the calls too
        headers = [*headers, (TOOLS_HEADER + b"-calls", header_value(", ".join(
            f"{c.tool}:{c.outcome}" for c in record.tool_calls)))]
    await send_json(send, 200, turn.render_whole(whole, answer), headers)


def _payload_size(event: Event) -> int:
    """The bytes an event adds to a folded answer (its text, JSON or signature)."""
    for name in ("text", "partial_json", "thinking", "signature"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return len(value)
    return 0


async def _completed(turn: ClientTurn, answer: Answer, response: Response | None,
                     taps: list[StreamTap], record: RequestRecord) -> None:
    """The complete answer to whoever wants it, unless an error ended it."""
    if response is None or record.stream_error is not None:
        return
    if turn.wants_result:
        await turn.completed(response, answer)
    for tap in taps:
        if tap.wants_result:
            tap.completed(response)
