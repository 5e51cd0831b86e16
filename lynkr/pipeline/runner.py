"""Run a compiled pipeline over one exchange, timing each stage."""

from __future__ import annotations

import inspect
from time import perf_counter_ns

import attrs

from lynkr.pipeline.compile import Pipeline
from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange
from lynkr.stages.session import session_key


@attrs.frozen
class StageTiming:
    stage: str
    micros: float


async def run_stages(pipeline: Pipeline, exchange: Exchange, ports: Ports
                     ) -> tuple[Exchange, tuple[StageTiming, ...]]:
    timings = []
    if ports.sessions is not None:  # the session's decisions, close before any stage asks
        await ports.sessions.load(session_key(exchange))
    for stage in pipeline.stages:
        if stage.spec.run is None:  # a tap-only stage: it watches the answer, later
            continue
        started = perf_counter_ns()
        result = stage.spec.run(exchange, stage.config, ports)  # type: ignore[misc]
        if inspect.isawaitable(result):
            result = await result
        exchange = result
        timings.append(StageTiming(stage.name, (perf_counter_ns() - started) / 1000))
        if exchange.response is not None:
            break  # a stage answered (a cache hit): later stages do not run
    return exchange, tuple(timings)
