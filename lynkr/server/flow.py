"""One request through the proxy, whatever the client's dialect.

read body → ingress parse → pipeline → provider → egress (stream or fold). Errors before the
response starts are answered in the client's dialect with the right status; after it starts
they end the stream with the dialect's error frame. A client that goes away cancels the
upstream call. Nothing here knows a wire format: a ``Dialect`` binding supplies them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter
from typing import Any, Protocol

import attrs
import trio

from lynkr.formats.fold import Folder, stream_error
from lynkr.model.content import ToolUseBlock
from lynkr.model.errors import LynkrError
from lynkr.model.events import BlockStart, Event, MessageStart, Ping, StreamError
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.pipeline.runner import run_stages
from lynkr.server.asgi import Receive, Scope, Send, header, read_body, request_id, send_json
from lynkr.server.errors import error_headers, error_payload
from lynkr.server.report import log_fields, pipeline_headers
from lynkr.server.state import AppState
from lynkr.stages.exchange import Context, Dialect, Exchange

log = logging.getLogger("lynkr.request")


class StreamRenderer(Protocol):
    def render(self, events: list[Event]) -> bytes: ...

    def finish(self) -> bytes: ...


@attrs.frozen
class DialectBinding:
    name: Dialect
    parse: Callable[[bytes, Scope], Request]
    renderer: Callable[[], StreamRenderer]
    render_whole: Callable[[Response], Any]
    content_type: bytes = b"text/event-stream"


async def handle(state: AppState, binding: DialectBinding, scope: Scope, receive: Receive,
                 send: Send) -> None:
    started_at = perf_counter()
    rid = request_id(scope)
    fields: dict[str, Any] = {"request_id": rid, "dialect": binding.name}
    response_started = False

    async def tracked_send(message: dict[str, Any]) -> None:
        nonlocal response_started
        response_started = True
        await send(message)

    try:
        body = await read_body(receive, state.settings.max_body_bytes,
                               header(scope, b"content-length"))
        request = binding.parse(body, scope)
        context = Context(rid, binding.name, header(scope, b"x-claude-code-session-id"),
                          request.model)
        exchange, timings = await run_stages(state.pipeline, Exchange(request, context),
                                             state.ports)
        fields = log_fields(exchange, timings)
        failure: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_disconnect, receive, nursery.cancel_scope, fields)
            try:
                await _answer(state, binding, exchange, pipeline_headers(exchange, timings),
                              tracked_send, fields)
            except Exception as exc:  # carried out of the nursery unwrapped, handled below
                failure = exc
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        status = fields.setdefault("status", 200)
    except LynkrError as exc:
        fields.update(status=exc.status, error=exc.message)
        if not response_started:
            code, payload = error_payload(exc, rid, binding.name)
            await send_json(send, code, payload, error_headers(exc, rid))
        status = exc.status
    except Exception:  # the top-level guard: a bug becomes a clean 500, never a trace
        log.exception("unhandled error", extra={"request_id": rid})
        status = 500
        if not response_started:
            exc = LynkrError("internal error in the proxy; see its log for "
                             f"request id {rid}")
            code, payload = error_payload(exc, rid, binding.name)
            await send_json(send, code, payload, error_headers(exc, rid))
    fields["status"] = status
    fields["ms"] = round((perf_counter() - started_at) * 1000, 2)
    log.info("request", extra=fields)


async def _watch_disconnect(receive: Receive, scope: trio.CancelScope,
                            fields: dict[str, Any]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            fields["client_disconnected"] = True
            scope.cancel()
            return


async def _answer(state: AppState, binding: DialectBinding, exchange: Exchange,
                  headers: list[tuple[bytes, bytes]], send: Send, fields: dict[str, Any]
                  ) -> None:
    request, route = exchange.request, exchange.route
    assert route is not None
    provider = state.providers[route.provider]
    rid = exchange.context.request_id
    headers = [(b"request-id", rid.encode()), (b"x-request-id", rid.encode()), *headers]
    body = provider.body(request)
    model = exchange.context.client_model \
        if state.pipeline.egress.report_model == "client" else route.model
    message_id = "msg_" + rid.removeprefix("req_")
    taken = frozenset(b.id for m in request.messages if m.role == "assistant"
                      for b in m.content if isinstance(b, ToolUseBlock))
    async with provider.open(body, message_id, model, len(body) // 4, taken) as stream:
        first = await _first_events(stream)
        if request.stream:
            await _stream(binding, first, stream, headers, send, state.pipeline.egress.coalesce,
                          fields)
        else:
            folder = Folder()
            for event in first:
                folder.add(event)
            async for events in stream:
                for event in events:
                    folder.add(event)
            await send_json(send, 200, binding.render_whole(folder.result()), headers)


async def _first_events(stream: Any) -> list[Event]:
    """The first read's events; an error there is still answered as an HTTP error."""
    events: list[Event] = []
    async for batch in stream:
        events.extend(batch)
        for event in batch:
            if isinstance(event, StreamError) and not any(
                    isinstance(e, BlockStart) for e in events):
                raise stream_error(event)
        if any(not isinstance(e, (MessageStart, Ping)) for e in batch):
            break
    return events


async def _stream(binding: DialectBinding, first: list[Event], stream: Any,
                  headers: list[tuple[bytes, bytes]], send: Send, coalesce: bool,
                  fields: dict[str, Any]) -> None:
    renderer = binding.renderer()
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", binding.content_type), (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"), *headers]})
    await _write(send, renderer, first, coalesce)
    async for events in stream:
        for event in events:
            if isinstance(event, StreamError):
                fields["stream_error"] = event.message
        await _write(send, renderer, events, coalesce)
    tail = renderer.finish()
    await send({"type": "http.response.body", "body": tail, "more_body": False})


async def _write(send: Send, renderer: StreamRenderer, events: list[Event], coalesce: bool
                 ) -> None:
    if not events:
        return
    if coalesce:
        await send({"type": "http.response.body", "body": renderer.render(events),
                    "more_body": True})
        return
    for event in events:
        await send({"type": "http.response.body", "body": renderer.render([event]),
                    "more_body": True})
