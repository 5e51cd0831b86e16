"""What the pipeline did, as response headers and as the facts the request's record keeps."""

from __future__ import annotations

from lynkr.observability.record import RouteFacts, StageReport
from lynkr.pipeline.runner import StageTiming
from lynkr.server.asgi import header_value
from lynkr.stages.exchange import CACHE_VERDICT, MEMORY_ANNOTATION, Exchange, Route


def pipeline_headers(exchange: Exchange, timings: tuple[StageTiming, ...]
                     ) -> list[tuple[bytes, bytes]]:
    route = exchange.route
    notes = "; ".join(f"{n.stage}={n.summary}" for n in exchange.notes)
    timing = ", ".join(f"{t.stage};dur={t.micros / 1000:.3f}" for t in timings)
    removed = sum(n.tokens_removed for n in exchange.notes)
    by_stage = ", ".join(f"{n.stage}={n.tokens_removed}" for n in exchange.notes
                         if n.tokens_removed)
    headers = [
        (b"x-lynkr-stages", header_value(notes)),
        (b"x-lynkr-tokens-removed", str(removed).encode()),
        (b"x-lynkr-tokens-removed-by-stage", header_value(by_stage or "none")),
        (b"server-timing", header_value(timing)),
    ]
    if route is not None:
        headers.append((b"x-lynkr-route",
                        header_value(f"{route.provider}/{route.model}; reason={route.reason}")))
    verdict = exchange.annotations.get(CACHE_VERDICT)
    if verdict is not None:
        headers.append((b"x-lynkr-cache", verdict.encode()))
    memory = exchange.annotations.get(MEMORY_ANNOTATION)
    if memory is not None:
        headers.append((b"x-lynkr-memory", memory.encode()))
    return headers


def fallback_headers(exchange: Exchange) -> list[tuple[bytes, bytes]]:
    """The route that really answered, after a fallback."""
    route = exchange.route
    assert route is not None
    return [(b"x-lynkr-fallback",
             header_value(f"{route.provider}/{route.model}; reason={route.reason}"))]


def route_facts(route: Route) -> RouteFacts:
    return RouteFacts(route.provider, route.model, route.reason, route.kind)


def stage_reports(exchange: Exchange, timings: tuple[StageTiming, ...]
                  ) -> tuple[StageReport, ...]:
    """Each stage's note and time, by stage: a stage that noted nothing still has its time,
    and a note from outside the pipeline (before it ran) is kept with none."""
    noted = {n.stage: n for n in exchange.notes}
    timed = {t.stage for t in timings}
    reports = [StageReport(n.stage, n.summary, n.tokens_removed) for n in exchange.notes
               if n.stage not in timed]
    for timing in timings:
        note = noted.get(timing.stage)
        reports.append(StageReport(timing.stage, note.summary if note else "",
                                   note.tokens_removed if note else 0, timing.micros))
    return tuple(reports)
