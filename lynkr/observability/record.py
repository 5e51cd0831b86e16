"""The life of one request as a typed record, and the log line that projects it.

    receiving ──► routed ──► streaming ──► done
        │           │ ▲          │
        │           └─┘ (a fallback routes again)
        └───────────┴────────────┴──► client_gone | failed

The server moves the record through its phases as the request goes; a move the diagram does
not draw raises ``IllegalTransition`` (a bug in the server, never a client's mistake), as h11's
and hypercorn's state machines refuse theirs. ``streaming`` means the response has started
(its status line is out): after that an error can only end the stream. The log line
(``log_fields``) and the metrics (``Metrics.observe``) are pure functions of the finished
record, so they never disagree.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from lynkr.model.events import Usage


class Phase(enum.Enum):
    RECEIVING = "receiving"
    ROUTED = "routed"
    STREAMING = "streaming"
    DONE = "done"
    CLIENT_GONE = "client_gone"
    FAILED = "failed"


MOVES: dict[Phase, frozenset[Phase]] = {
    Phase.RECEIVING: frozenset({Phase.ROUTED, Phase.CLIENT_GONE, Phase.FAILED}),
    Phase.ROUTED: frozenset({Phase.ROUTED, Phase.STREAMING, Phase.CLIENT_GONE, Phase.FAILED}),
    Phase.STREAMING: frozenset({Phase.DONE, Phase.CLIENT_GONE, Phase.FAILED}),
    Phase.DONE: frozenset(),
    Phase.CLIENT_GONE: frozenset(),
    Phase.FAILED: frozenset(),
}
CLIENT_CLOSED = 499  # nginx's status for a client that closed the request


class IllegalTransition(RuntimeError):
    """The server tried a move the request's life does not allow (a bug, answered 500)."""


@attrs.frozen
class RouteFacts:
    provider: str
    model: str
    reason: str  # for people: "tier ollama (not openrouter: 20 tools > 15)"
    kind: str  # for metrics, a closed set: "configured", "tier", "fallback", ...


@attrs.frozen
class StageReport:
    stage: str
    summary: str
    tokens_removed: int = 0
    micros: float = 0.0


@attrs.frozen
class Fallback:
    from_provider: str
    to_provider: str
    error: str


@attrs.frozen
class ToolCallFacts:
    """One call the server-side tool loop ran for the request."""

    tool: str
    box: str
    ms: float
    outcome: str  # ok, error (the tool said so), timeout, failed (it raised)
    step: int  # the model call that asked for it (1 = the first)


@attrs.define
class RequestRecord:
    request_id: str
    dialect: str
    started_at: float  # seconds on the server's clock (trio.current_time)
    phase: Phase = Phase.RECEIVING
    user: str | None = None  # the inbound key's name, when keys are on
    session_id: str | None = None
    client_model: str = ""
    route: RouteFacts | None = None
    stages: tuple[StageReport, ...] = ()
    cache: str | None = None  # the prompt cache's verdict: hit, miss, bypass
    first_byte_at: float | None = None
    ended_at: float | None = None
    status: int | None = None
    error: str | None = None
    error_type: str | None = None
    stream_error: str | None = None  # an error that ended a started stream
    usage: Usage | None = None
    retries: int = 0
    fallbacks: list[Fallback] = attrs.field(factory=list)
    tool_calls: list[ToolCallFacts] = attrs.field(factory=list)  # the tool loop's calls
    tool_steps: int = 0  # model calls of an answer in the tool loop (0: not in the loop)

    def _move(self, to: Phase) -> None:
        if to not in MOVES[self.phase]:
            raise IllegalTransition(f"request {self.request_id}: {self.phase.value} -> "
                                    f"{to.value} is not a move its life allows")
        self.phase = to

    @property
    def started(self) -> bool:
        """Whether the response has started (errors can then only end the stream)."""
        return self.first_byte_at is not None

    @property
    def finished(self) -> bool:
        return not MOVES[self.phase]

    def routed(self, route: RouteFacts, stages: tuple[StageReport, ...], cache: str | None,
               session_id: str | None, client_model: str) -> None:
        self._move(Phase.ROUTED)
        self.route, self.stages, self.cache = route, stages, cache
        self.session_id, self.client_model = session_id, client_model

    def rerouted(self, route: RouteFacts, fallback: Fallback) -> None:
        self._move(Phase.ROUTED)
        self.route = route
        self.fallbacks.append(fallback)

    def streaming(self, now: float) -> None:
        self._move(Phase.STREAMING)
        self.first_byte_at = now

    def done(self, status: int = 200) -> None:
        self._move(Phase.DONE)
        self.status = status

    def client_gone(self) -> None:
        self._move(Phase.CLIENT_GONE)
        self.status = CLIENT_CLOSED

    def failed(self, status: int, error_type: str, message: str) -> None:
        self._move(Phase.FAILED)
        self.status, self.error_type, self.error = status, error_type, message

    def end(self, now: float) -> None:
        self.ended_at = now

    @property
    def ms(self) -> float | None:
        return None if self.ended_at is None else (self.ended_at - self.started_at) * 1000

    @property
    def ttfb_ms(self) -> float | None:
        return None if self.first_byte_at is None \
            else (self.first_byte_at - self.started_at) * 1000

    @property
    def input_tokens(self) -> int:
        usage = self.usage
        return 0 if usage is None else usage.input_tokens + usage.cache_read_input_tokens \
            + usage.cache_creation_input_tokens

    @property
    def output_tokens(self) -> int:
        return 0 if self.usage is None else self.usage.output_tokens


def log_fields(record: RequestRecord) -> dict[str, Any]:
    """The request's log line: every field a person reading the log wants, from the record."""
    route = record.route
    fields: dict[str, Any] = {
        "request_id": record.request_id, "dialect": record.dialect,
        "phase": record.phase.value, "status": record.status,
    }
    if record.user is not None:
        fields["user"] = record.user
    if route is not None or record.session_id or record.client_model:
        stages = record.stages
        fields.update(
            session_id=record.session_id, client_model=record.client_model,
            provider=route.provider if route else None,
            upstream_model=route.model if route else None,
            route_reason=route.reason if route else None,
            stages={s.stage: s.summary for s in stages},
            stage_us={s.stage: round(s.micros, 1) for s in stages},
            tokens_removed=sum(s.tokens_removed for s in stages),
            stage_tokens_removed={s.stage: s.tokens_removed for s in stages},
            cache=record.cache)
    if record.ended_at is not None:
        fields["ms"] = round((record.ended_at - record.started_at) * 1000, 2)
    if record.first_byte_at is not None:
        fields["ttfb_ms"] = round((record.first_byte_at - record.started_at) * 1000, 2)
    if record.error is not None:
        fields["error"], fields["error_type"] = record.error, record.error_type
    if record.stream_error is not None:
        fields["stream_error"] = record.stream_error
    if record.retries:
        fields["retries"] = record.retries
    if record.fallbacks:
        fields["fallbacks"] = [attrs.asdict(f) for f in record.fallbacks]
    if record.tool_steps:
        fields["tool_steps"] = record.tool_steps
        fields["tool_calls"] = [f"{c.tool}:{c.outcome}:{round(c.ms, 1)}ms"
                                for c in record.tool_calls]
    if record.phase is Phase.CLIENT_GONE:
        fields["client_disconnected"] = True
    usage = record.usage
    if usage is not None:
        fields["input_tokens"] = record.input_tokens
        fields["output_tokens"] = usage.output_tokens
        fields["cache_read_tokens"] = usage.cache_read_input_tokens  # as the upstream said
        fields["cache_write_tokens"] = usage.cache_creation_input_tokens
    return fields
