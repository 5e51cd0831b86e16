"""Getting the answer's first events: the cache replay, or the routed provider with retries,
its circuit breaker, and the route's fallbacks.

Everything here happens before the first byte reaches the client, so it may be retried: a
connect error, 429 (after its Retry-After), 5xx or an error in the first read is retried on the
same provider (the breaker counts the request once, after its retries), then the next fallback
is tried (the pipeline is run again for it, so its model mapping and capability filter apply).
An open breaker skips its provider at once. Once this returns, nothing is retried.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

import attrs

from lynkr.formats.fold import stream_error, unfold
from lynkr.model.errors import LynkrError
from lynkr.model.events import BlockStart, Event, MessageStart, Ping, StreamError
from lynkr.model.request import Request
from lynkr.observability.record import Fallback, RequestRecord
from lynkr.pipeline.compile import Pipeline
from lynkr.pipeline.runner import run_stages
from lynkr.ports import Answering, EventBatches, InHand
from lynkr.resilience import CircuitOpen, RetryPolicy, is_retryable
from lynkr.resilience.calls import open_with_retry
from lynkr.server.report import route_facts
from lynkr.server.state import AppState
from lynkr.stages.exchange import Exchange

_rng = random.Random()


@attrs.frozen
class Opened:
    stream: EventBatches
    first: list[Event]
    exchange: Exchange  # the one that answered (differs from the request's after a fallback)


@asynccontextmanager
async def open_answer(state: AppState, exchange: Exchange, client_request: Request,
                      answering: Answering, record: RequestRecord,
                      pipeline: Pipeline | None = None) -> AsyncIterator[Opened]:
    """``pipeline``: the one the request started with (a fallback runs it again), by default
    the state's."""
    if exchange.response is not None:  # a stage answered (a cache hit): replay it
        replay = attrs.evolve(exchange.response, id=answering.message_id,
                              model=answering.model)
        yield Opened(InHand(), unfold(replay), exchange)
        return
    tried: list[str] = []
    while True:
        assert exchange.route is not None
        name = exchange.route.provider
        tried.append(name)
        async with AsyncExitStack() as stack:
            try:
                stream, first = await stack.enter_async_context(
                    _open_upstream(state, exchange, answering, record))
            except LynkrError as error:
                following = _next_fallback(state, exchange, tried, error)
                if following is None:
                    raise
                await stack.aclose()
                state.metrics.fallbacks.labels(name, following).inc()
                exchange = await _reroute(state, pipeline or state.pipeline, exchange,
                                          client_request, following,
                                          f"fallback from {name}: {type(error).__name__}")
                assert exchange.route is not None
                record.rerouted(route_facts(exchange.route),
                                Fallback(name, following, error.message[:200]))
                continue
            yield Opened(stream, first, exchange)
            return


@asynccontextmanager
async def open_step(state: AppState, exchange: Exchange, answering: Answering,
                    record: RequestRecord) -> AsyncIterator[Opened]:
    """A later model call of an answer that has started (the tool loop's next step): the
    provider that answered, with its retries and breaker; no fallback (the client already has
    this provider's first words)."""
    async with _open_upstream(state, exchange, answering, record) as (stream, first):
        yield Opened(stream, first, exchange)


def _open_upstream(state: AppState, exchange: Exchange, answering: Answering,
                   record: RequestRecord
                   ) -> AbstractAsyncContextManager[tuple[EventBatches, list[Event]]]:
    route = exchange.route
    assert route is not None
    upstream = state.upstreams[route.provider]
    call = upstream.prepare(exchange.request, answering)
    settings = state.settings.resilience
    policy = RetryPolicy(settings.retry_max_retries, settings.retry_initial_delay_s,
                         settings.retry_max_delay_s)

    def on_retry(attempt: int, error: LynkrError, delay: float) -> None:
        state.metrics.retries.labels(route.provider, type(error).__name__).inc()
        record.retries = attempt

    return open_with_retry(lambda: upstream.open(call), state.breakers[route.provider], policy,
                           rng=_rng, first_read=first_events, on_retry=on_retry,
                           board=state.shared.board if state.shared is not None else None)


def _next_fallback(state: AppState, exchange: Exchange, tried: list[str],
                   error: LynkrError) -> str | None:
    if not (is_retryable(error) or isinstance(error, CircuitOpen)):
        return None  # a request the provider refused as such: another would refuse it too
    assert exchange.route is not None
    for name in exchange.route.fallbacks:
        if name not in tried and name in state.upstreams:
            return name
    return None


async def _reroute(state: AppState, pipeline: Pipeline, exchange: Exchange,
                   client_request: Request, provider: str, reason: str) -> Exchange:
    """The pipeline run again for ``provider`` (its model mapping and filters apply)."""
    context = attrs.evolve(exchange.context, forced_provider=provider, forced_reason=reason)
    rerouted, _ = await run_stages(pipeline,
                                   Exchange(client_request, context, route=exchange.route),
                                   state.ports)
    return rerouted


async def first_events(stream: EventBatches) -> list[Event]:
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
