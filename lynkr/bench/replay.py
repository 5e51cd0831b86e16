"""Replay recorded sessions through a pipeline, in process, and price what the upstream gets.

Each request goes through the client dialect's parser, the compiled pipeline (with a fresh
session store per run, as a restarted Lynkr would have) and the upstream family's body builder;
nothing touches the network. What comes out per request: the upstream body's pieces, each
stage's note and time, the tools sent and the tools the client offered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import orjson
import trio

from lynkr.bench.cost import PrefixMeter, Step, Totals, session_steps
from lynkr.bench.sessions import Session
from lynkr.cache.memory import MemoryCache
from lynkr.cache.sessions import MemorySessionStore
from lynkr.formats.anthropic.request import parse_request
from lynkr.formats.anthropic.upstream import build_messages_request
from lynkr.formats.jsonvalue import loads_object
from lynkr.formats.ollama.request import OllamaOptions, build_ollama_request
from lynkr.formats.openai_chat.ingress import parse_chat_request
from lynkr.formats.openai_chat.request import build_chat_request
from lynkr.model.content import ToolUseBlock
from lynkr.model.request import Request
from lynkr.pipeline.compile import Pipeline
from lynkr.pipeline.runner import run_stages
from lynkr.ports import Family, Ports, ProviderInfo
from lynkr.stages.exchange import Context, Exchange

# the backend a replay prices: its family decides the body; its window, compress_history's
BACKENDS: dict[str, ProviderInfo] = {
    "openai": ProviderInfo("openai", "openai", "gpt-4o", "http://127.0.0.1:9/v1", 128_000),
    "ollama": ProviderInfo("ollama", "ollama", "qwen2.5-coder:7b", "http://127.0.0.1:9",
                           32_768),
    "anthropic": ProviderInfo("anthropic", "anthropic", "claude-sonnet-4-5",
                              "http://127.0.0.1:9/v1/messages", 200_000),
}
_BUILD: dict[Family, Callable[[Request], dict[str, Any]]] = {
    "openai": build_chat_request,
    "ollama": lambda r: build_ollama_request(r, OllamaOptions(num_ctx=32_768)),
    "anthropic": build_messages_request,
    "bedrock": build_messages_request,
}


@attrs.frozen
class Row:
    """One replayed request."""

    body: dict[str, Any] | None  # None: answered by the pipeline itself (a cache hit)
    stage_tokens: dict[str, int]  # tokens each stage reported removing
    stage_micros: dict[str, float]
    notes: tuple[str, ...]
    offered: frozenset[str]  # tool names the client sent
    sent: frozenset[str]  # tool names the upstream got
    called: frozenset[str]  # tool names called in the client's conversation


@attrs.frozen
class SessionResult:
    name: str
    rows: tuple[Row, ...]
    steps: tuple[Step, ...]
    missing_tools: tuple[str, ...]  # "request 3: Edit" for a tool removed but called later

    @property
    def totals(self) -> Totals:
        return Totals.of(self.steps)


def parse(record: dict[str, Any], index: int) -> Exchange:
    headers = {k.lower(): v for k, v in (record.get("headers") or {}).items()}
    obj = loads_object(orjson.dumps(record["body"]))
    if record.get("path", "/v1/messages").startswith("/v1/chat/completions"):
        request, _ = parse_chat_request(obj)
        dialect = "openai_chat"
    else:
        betas = tuple(b.strip() for b in headers.get("anthropic-beta", "").split(",")
                      if b.strip())
        request = parse_request(obj, betas=betas)
        dialect = "anthropic"
    context = Context(f"req_bench{index}", dialect,  # type: ignore[arg-type]
                      headers.get("x-claude-code-session-id"), request.model)
    return Exchange(request, context)


def ports_for(backend: str) -> Ports:
    info = BACKENDS[backend]
    return Ports(providers={info.name: info}, default_provider=info.name,
                 cache=MemoryCache(), sessions=MemorySessionStore(), now=lambda: 0.0)


def replay(pipeline: Pipeline, sessions: Sequence[Session], backend: str,
           count: Callable[[str], int], meter: PrefixMeter | None = None
           ) -> list[SessionResult]:
    meter = meter or PrefixMeter(count)
    return trio.run(_replay, pipeline, sessions, backend, meter)


async def _replay(pipeline: Pipeline, sessions: Sequence[Session], backend: str,
                  meter: PrefixMeter) -> list[SessionResult]:
    ports = ports_for(backend)
    build = _BUILD[BACKENDS[backend].family]
    out = []
    for session in sessions:
        rows = []
        for index, record in enumerate(session.requests):
            exchange, timings = await run_stages(pipeline, parse(record, index), ports)
            request = exchange.request
            per: dict[str, int] = {}
            for note in exchange.notes:
                per[note.stage] = per.get(note.stage, 0) + note.tokens_removed
            rows.append(Row(
                None if exchange.response is not None else build(request), per,
                {t.stage: t.micros for t in timings},
                tuple(f"{n.stage}={n.summary}" for n in exchange.notes),
                frozenset(t.name for t in parse(record, index).request.tools),
                frozenset(t.name for t in request.tools),
                frozenset(b.name for m in request.messages for b in m.content
                          if isinstance(b, ToolUseBlock))))
        steps = session_steps([r.body for r in rows if r.body is not None], meter)
        out.append(SessionResult(session.name, tuple(rows), tuple(steps), _missing(rows)))
    return out


def _missing(rows: list[Row]) -> tuple[str, ...]:
    """Tools the client offered, the upstream did not get, and the conversation calls later."""
    called_later: set[str] = set()
    found: list[str] = []
    for index in range(len(rows) - 1, -1, -1):
        row = rows[index]
        for name in sorted((row.offered - row.sent) & called_later):
            found.append(f"request {index + 1}: {name}")
        called_later |= row.called
    return tuple(reversed(found))


def without(pipeline: Pipeline, stage: str) -> Pipeline:
    return attrs.evolve(pipeline, stages=tuple(s for s in pipeline.stages if s.name != stage))


def with_stage(base: Pipeline, donor: Pipeline, stage: str) -> Pipeline:
    """``base`` with ``donor``'s ``stage`` (its parameters) replacing or added after the rest."""
    bound = next(s for s in donor.stages if s.name == stage)
    if any(s.name == stage for s in base.stages):
        return attrs.evolve(base, stages=tuple(bound if s.name == stage else s
                                               for s in base.stages))
    return attrs.evolve(base, stages=(*base.stages, bound))
