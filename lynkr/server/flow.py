"""One request through the proxy, whatever the client's dialect.

read body → ingress parse → pipeline → provider → egress (stream or fold). Errors before the
response starts are answered in the client's dialect with the right status; after it starts
they end the stream with the dialect's error frame. A client that goes away cancels the
upstream call. Nothing here knows a wire format: a ``Dialect`` binding supplies them.
When a stage has set the response (a prompt-cache hit) no provider is called: the response is
unfolded into the stream it would have been and leaves through the same egress; a complete
answer to a request the cache stage keyed is stored once it has been sent.
"""

from __future__ import annotations

import logging
import math
import time
from time import perf_counter
from typing import Any, Protocol

import attrs
import trio

from lynkr.config.limits import Limits
from lynkr.formats.fold import Folder
from lynkr.model.errors import LynkrError, UpstreamError, UpstreamTimeout
from lynkr.model.events import Event, MessageDelta, Ping, StreamError
from lynkr.model.request import Request
from lynkr.model.response import Response
from lynkr.pipeline.runner import run_stages
from lynkr.server.asgi import Receive, Scope, Send, header, read_body, request_id, send_json
from lynkr.server.errors import error_headers, error_payload
from lynkr.server.report import fallback_headers, log_fields, pipeline_headers
from lynkr.server.state import AppState
from lynkr.server.upstream_call import open_answer
from lynkr.stages.exchange import Context, Dialect, Exchange, Note
from lynkr.stages.prompt_cache import KEY as CACHE_KEY
from lynkr.stages.prompt_cache import STATE as CACHE_STATE
from lynkr.stages.prompt_cache import cacheable_response

log = logging.getLogger("lynkr.request")


@attrs.define
class Progress:
    """Whether the response has started (after that, errors go into the stream), and when."""

    started_at: float = attrs.field(factory=perf_counter)
    started: bool = False
    first_byte_at: float | None = None

    def start(self) -> None:
        self.started = True
        self.first_byte_at = perf_counter()


class StreamRenderer(Protocol):
    def render(self, events: list[Event]) -> bytes: ...

    def finish(self) -> bytes: ...


@attrs.frozen
class Answer:
    """How the answer presents itself to the client."""

    id: str  # msg_… / chatcmpl-… / resp_…
    model: str  # the model name reported to the client
    created: int  # unix seconds


class DialectBinding(Protocol):
    """One client dialect: how its requests are read and its answers written."""

    name: Dialect
    content_type: bytes
    wants_result: bool  # ``completed`` needs the folded response even of a stream

    async def parse(self, body: bytes, scope: Scope) -> tuple[Request, Any]: ...

    def answer_id(self, request_id: str) -> str: ...

    def renderer(self, client: Any, answer: Answer) -> StreamRenderer: ...

    def render_whole(self, response: Response, client: Any, answer: Answer) -> Any: ...

    async def completed(self, request: Request, client: Any, answer: Answer,
                        response: Response) -> None: ...


async def handle(state: AppState, binding: DialectBinding, scope: Scope, receive: Receive,
                 send: Send) -> None:
    rid = request_id(scope)
    fields: dict[str, Any] = {"request_id": rid, "dialect": binding.name}
    progress = Progress()
    state.metrics.active_requests.inc()
    try:
        body = await read_body(receive, scope, state.settings)
        if state.recorder is not None:
            await state.recorder.record(scope["path"], scope["headers"], body)
        request, client = await binding.parse(body, scope)
        session = header(scope, b"x-claude-code-session-id") or header(scope, b"x-session-id")
        context = Context(rid, binding.name, session, request.model)
        dropped = getattr(client, "dropped", ())  # what the ingress could not carry
        notes = (Note("ingress", "dropped " + ", ".join(dropped)),) if dropped else ()
        exchange, timings = await run_stages(state.pipeline,
                                             Exchange(request, context, notes=notes),
                                             state.ports)
        turn = Turn(binding, request, client, exchange)
        fields = log_fields(exchange, timings)
        failure: Exception | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_disconnect, receive, nursery.cancel_scope, fields)
            try:
                await _answer(state, turn, pipeline_headers(exchange, timings), send, fields,
                              progress, nursery)
            except Exception as exc:  # carried out of the nursery unwrapped, handled below
                failure = exc
            nursery.cancel_scope.cancel()
        if failure is not None:
            raise failure
        # 499: the client closed the request (nginx's convention), the upstream call stopped
        status = 499 if fields.get("client_disconnected") else fields.setdefault("status", 200)
    except LynkrError as exc:
        fields.update(status=exc.status, error=exc.message, error_type=exc.anthropic_type)
        if not progress.started:
            code, payload = error_payload(exc, rid, binding.name)
            await send_json(send, code, payload, error_headers(exc, rid))
        status = exc.status
    except Exception:  # the top-level guard: a bug becomes a clean 500, never a trace
        log.exception("unhandled error", extra={"request_id": rid})
        status = 500
        if not progress.started:
            exc = LynkrError("internal error in the proxy; see its log for "
                             f"request id {rid}")
            code, payload = error_payload(exc, rid, binding.name)
            await send_json(send, code, payload, error_headers(exc, rid))
        fields["error_type"] = "internal"
    finally:
        state.metrics.active_requests.dec()
    fields["status"] = status
    fields["ms"] = round((perf_counter() - progress.started_at) * 1000, 2)
    if progress.first_byte_at is not None:
        fields["ttfb_ms"] = round((progress.first_byte_at - progress.started_at) * 1000, 2)
    usage = fields.pop("usage", None)
    if usage is not None:
        fields["input_tokens"] = usage.input_tokens + usage.cache_read_input_tokens \
            + usage.cache_creation_input_tokens
        fields["output_tokens"] = usage.output_tokens
        fields["cache_read_tokens"] = usage.cache_read_input_tokens  # as the upstream said
        fields["cache_write_tokens"] = usage.cache_creation_input_tokens
    log.info("request", extra=fields)
    state.metrics.record(fields)


async def _watch_disconnect(receive: Receive, scope: trio.CancelScope,
                            fields: dict[str, Any]) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # hypercorn also says "disconnect" once the whole response is out: only a
            # disconnect before that is a client going away
            if not fields.get("complete"):
                fields["client_disconnected"] = True
                scope.cancel()
            return


@attrs.frozen
class Turn:
    """One request in flight: its dialect, what the client sent, and the pipeline's result."""

    binding: DialectBinding
    client_request: Request
    client: Any
    exchange: Exchange


async def _answer(state: AppState, turn: Turn, headers: list[tuple[bytes, bytes]], send: Send,
                  fields: dict[str, Any], progress: Progress, nursery: trio.Nursery) -> None:
    binding, exchange = turn.binding, turn.exchange
    request, route = exchange.request, exchange.route
    assert route is not None
    rid = exchange.context.request_id
    headers = [(b"request-id", rid.encode()), (b"x-request-id", rid.encode()), *headers]
    cache_state = exchange.annotations.get(CACHE_STATE)
    if cache_state is not None:
        headers.append((b"x-lynkr-cache", cache_state.encode()))
    store_key = exchange.annotations.get(CACHE_KEY) if state.ports.cache is not None else None
    model = exchange.context.client_model \
        if state.pipeline.egress.report_model == "client" else route.model
    answer = Answer(binding.answer_id(rid), model, int(time.time()))
    folder = Folder()
    async with open_answer(state, exchange, turn.client_request,
                           "msg_" + rid.removeprefix("req_"), model, fields) as opened:
        stream, first = opened.stream, opened.first
        if opened.exchange is not exchange:
            headers.extend(fallback_headers(opened.exchange))
        if request.stream:
            progress.start()
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", binding.content_type), (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"), *headers]})
            renderer = binding.renderer(turn.client, answer)
            tap = folder if binding.wants_result or store_key else None
            state.metrics.active_streams.inc()
            try:
                if state.pipeline.egress.coalesce:
                    await _stream_coalesced(renderer, first, stream, send, fields, nursery,
                                            tap, state.pipeline.egress.ping_interval_s)
                else:
                    await _stream_each(renderer, first, stream, send, fields, tap)
            finally:
                state.metrics.active_streams.dec()
            # before the body ends: a client that reads to the end may send its next
            # request (previous_response_id) the moment it does
            await _completed(turn, answer, folder, fields)
            _store(state, store_key, folder, fields)
            fields["complete"] = True
            await send({"type": "http.response.body", "body": renderer.finish(),
                        "more_body": False})
        else:
            await _fold_bounded(state.settings.limits, request.max_tokens, first, stream,
                                folder, (opened.exchange.route or route).provider)
            await _completed(turn, answer, folder, fields)
            _store(state, store_key, folder, fields)
            fields["usage"] = folder.result().usage
            fields["complete"] = True
            progress.start()
            await send_json(send, 200, binding.render_whole(folder.result(), turn.client,
                                                            answer), headers)


async def _fold_bounded(limits: Limits, max_tokens: int, first: list[Event], stream: Any,
                        folder: Folder, provider: str) -> None:
    """A non-streamed answer, gathered within ``UPSTREAM_MAX_ANSWER_BYTES`` and a deadline
    that grows with ``max_tokens``: an upstream that never finishes must not grow the proxy."""
    deadline, cap = limits.answer_deadline_s(max_tokens), limits.answer_max_bytes
    with trio.move_on_after(deadline):
        size = 0
        batch = first
        while True:
            for event in batch:
                size += _payload_size(event)
                folder.add(event)
            if size > cap:
                raise UpstreamError(f"{provider}: the answer grew beyond {cap} bytes "
                                    f"(UPSTREAM_MAX_ANSWER_BYTES); it was stopped")
            try:
                batch = await anext(stream)
            except StopAsyncIteration:
                return
    raise UpstreamTimeout(
        f"{provider}: the answer did not finish within {deadline:g}s "
        f"(UPSTREAM_ANSWER_TIMEOUT_MS + UPSTREAM_ANSWER_MS_PER_TOKEN x max_tokens {max_tokens})")


def _payload_size(event: Event) -> int:
    """The bytes an event adds to a folded answer (its text, JSON or signature)."""
    for name in ("text", "partial_json", "thinking", "signature"):
        value = getattr(event, name, None)
        if isinstance(value, str):
            return len(value)
    return 0


def _store(state: AppState, key: str | None, folder: Folder, fields: dict[str, Any]) -> None:
    """Keep a complete, cacheable answer for the next identical request (before the last
    bytes go out: once they have, the server may cancel the request's task)."""
    if key is None or "stream_error" in fields or state.ports.cache is None:
        return
    response = folder.result()
    if cacheable_response(response):
        state.ports.cache.put(key, response, state.ports.now())


async def _completed(turn: Turn, answer: Answer, folder: Folder, fields: dict[str, Any]
                     ) -> None:
    if turn.binding.wants_result and "stream_error" not in fields:
        await turn.binding.completed(turn.client_request, turn.client, answer,
                                     folder.result())


async def _stream_coalesced(renderer: StreamRenderer, first: list[Event], stream: Any,
                            send: Send, fields: dict[str, Any], nursery: trio.Nursery,
                            tap: Folder | None, ping_s: float) -> None:
    """A reader task feeds a channel; the writer sends whatever has piled up in one write.

    When the upstream is slower than the client (the usual case) every read goes out at
    once; when reads arrive faster than they can be written, they merge instead of queueing
    one write each.
    """
    sender, receiver = trio.open_memory_channel[list[Event]](math.inf)
    reading = trio.CancelScope()
    finished = trio.Event()

    async def pump() -> None:
        try:
            with reading:
                async with sender:
                    async for events in stream:
                        await sender.send(events)
        finally:
            finished.set()

    nursery.start_soon(pump)
    try:
        _observe(first, fields, tap)
        await send({"type": "http.response.body", "body": renderer.render(first),
                    "more_body": True})
        async with receiver:
            while (batch := await _next_batch(receiver, ping_s)) is not None:
                while True:
                    try:
                        batch = batch + receiver.receive_nowait()
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                _observe(batch, fields, tap)
                await send({"type": "http.response.body", "body": renderer.render(batch),
                            "more_body": True})
    finally:
        # the writer failed or was cancelled: the reader must be gone before the upstream
        # stream is closed under it
        reading.cancel()
        with trio.CancelScope(shield=True):
            await finished.wait()


async def _next_batch(receiver: trio.MemoryReceiveChannel[list[Event]], ping_s: float
                      ) -> list[Event] | None:
    """The next read's events; a keep-alive ``Ping`` after ``ping_s`` seconds of upstream
    silence (so clients and proxies in between keep the stream open); None at the end."""
    try:
        if ping_s <= 0:
            return await receiver.receive()
        with trio.move_on_after(ping_s):
            return await receiver.receive()
        return [Ping()]
    except trio.EndOfChannel:
        return None


async def _stream_each(renderer: StreamRenderer, first: list[Event], stream: Any,
                       send: Send, fields: dict[str, Any], tap: Folder | None) -> None:
    """One write per event, as the upstream produced them (``coalesce: false``)."""

    async def write(events: list[Event]) -> None:
        _observe(events, fields, tap)
        for event in events:
            await send({"type": "http.response.body", "body": renderer.render([event]),
                        "more_body": True})

    await write(first)
    async for events in stream:
        await write(events)


def _observe(events: list[Event], fields: dict[str, Any], tap: Folder | None) -> None:
    """Taps on the outgoing stream: the error note for the log, and the fold if wanted."""
    for event in events:
        if isinstance(event, StreamError):
            fields["stream_error"] = event.message
            continue
        if isinstance(event, MessageDelta):
            fields["usage"] = event.usage
        if tap is not None:
            tap.add(event)
