"""The request record's phases: the moves its life allows, the ones it refuses, and the log
line that projects it."""

from __future__ import annotations

import pytest

from lynkr.model.events import Usage
from lynkr.observability.record import (
    MOVES,
    Fallback,
    IllegalTransition,
    Phase,
    RequestRecord,
    RouteFacts,
    StageReport,
    log_fields,
)

ROUTE = RouteFacts("ollama", "qwen", "configured provider", "configured")
OTHER = RouteFacts("openai", "gpt-4o", "fallback from ollama: UpstreamUnreachable", "fallback")


def record_in(phase: Phase) -> RequestRecord:
    """A record brought to ``phase`` through legal moves."""
    record = RequestRecord("req_1", "anthropic", started_at=1.0)
    path = {Phase.RECEIVING: [], Phase.ROUTED: ["route"], Phase.STREAMING: ["route", "stream"],
            Phase.DONE: ["route", "stream", "done"], Phase.CLIENT_GONE: ["gone"],
            Phase.FAILED: ["fail"]}[phase]
    for step in path:
        {"route": lambda: record.routed(ROUTE, (), None, None, "claude"),
         "stream": lambda: record.streaming(1.5), "done": record.done,
         "gone": record.client_gone,
         "fail": lambda: record.failed(400, "invalid_request_error", "bad")}[step]()
    assert record.phase is phase
    return record


MOVERS = {
    Phase.ROUTED: lambda r: r.routed(ROUTE, (), None, None, ""),
    Phase.STREAMING: lambda r: r.streaming(2.0),
    Phase.DONE: lambda r: r.done(),
    Phase.CLIENT_GONE: lambda r: r.client_gone(),
    Phase.FAILED: lambda r: r.failed(502, "api_error", "down"),
}


@pytest.mark.parametrize("start", list(Phase), ids=lambda p: p.value)
@pytest.mark.parametrize("to", list(MOVERS), ids=lambda p: p.value)
def test_every_move_is_allowed_or_refused_as_drawn(start: Phase, to: Phase) -> None:
    record = record_in(start)
    if to in MOVES[start]:
        MOVERS[to](record)
        assert record.phase is to
    else:
        with pytest.raises(IllegalTransition, match=f"{start.value} -> {to.value}"):
            MOVERS[to](record)
        assert record.phase is start  # a refused move changes nothing


def test_the_drawn_moves() -> None:
    assert {p: {q.value for q in MOVES[p]} for p in Phase} == {
        Phase.RECEIVING: {"routed", "client_gone", "failed"},
        Phase.ROUTED: {"routed", "streaming", "client_gone", "failed"},
        Phase.STREAMING: {"done", "client_gone", "failed"},
        Phase.DONE: set(), Phase.CLIENT_GONE: set(), Phase.FAILED: set(),
    }


def test_a_fallback_routes_again_and_is_kept() -> None:
    record = record_in(Phase.ROUTED)
    record.rerouted(OTHER, Fallback("ollama", "openai", "refused"))
    assert (record.phase, record.route) == (Phase.ROUTED, OTHER)
    assert record.fallbacks == [Fallback("ollama", "openai", "refused")]


def test_the_log_line_is_a_projection_of_the_record() -> None:
    record = RequestRecord("req_1", "openai_chat", started_at=10.0)
    record.routed(ROUTE, (StageReport("route", "ollama (configured provider)", 0, 4.04),
                          StageReport("dedupe", "2 removed", 120, 30.0)), "miss", "s1", "gpt-x")
    record.retries = 2
    record.streaming(10.25)
    record.usage = Usage(input_tokens=100, output_tokens=7, cache_read_input_tokens=20)
    record.done()
    record.end(10.5)
    assert log_fields(record) == {
        "request_id": "req_1", "dialect": "openai_chat", "phase": "done", "status": 200,
        "session_id": "s1", "client_model": "gpt-x", "provider": "ollama",
        "upstream_model": "qwen", "route_reason": "configured provider",
        "stages": {"route": "ollama (configured provider)", "dedupe": "2 removed"},
        "stage_us": {"route": 4.0, "dedupe": 30.0}, "tokens_removed": 120,
        "stage_tokens_removed": {"route": 0, "dedupe": 120}, "cache": "miss",
        "ms": 500.0, "ttfb_ms": 250.0, "retries": 2, "input_tokens": 120, "output_tokens": 7,
        "cache_read_tokens": 20, "cache_write_tokens": 0,
    }


def test_a_client_gone_is_499_and_said_so() -> None:
    record = record_in(Phase.STREAMING)
    record.client_gone()
    record.end(2.0)
    fields = log_fields(record)
    assert (fields["status"], fields["client_disconnected"], fields["phase"]) == (
        499, True, "client_gone")


def test_a_request_refused_before_routing_logs_what_is_known() -> None:
    record = RequestRecord("req_9", "anthropic", started_at=0.0)
    record.failed(413, "request_too_large", "too big")
    record.end(0.001)
    assert log_fields(record) == {
        "request_id": "req_9", "dialect": "anthropic", "phase": "failed", "status": 413,
        "ms": 1.0, "error": "too big", "error_type": "request_too_large"}
    assert not record.started and record.finished
