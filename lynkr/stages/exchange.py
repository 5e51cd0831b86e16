"""The value every stage receives and returns: a request plus what is known about it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from lynkr.model.request import Request
from lynkr.model.response import Response

Dialect = Literal["anthropic", "openai_chat", "openai_responses"]
# the annotation under which the prompt cache leaves its verdict (hit, miss, bypass), for the
# x-lynkr-cache header, the log and the metrics
CACHE_VERDICT = "prompt_cache"
# the annotation under which memory_inject says what the newest user turn carries
# ("3 injected, 212 tokens"), for the x-lynkr-memory header
MEMORY_ANNOTATION = "memory"
# the annotation under which memory_inject leaves the newest typed turn's key (turn_key), so
# memory_extract's tap does not digest the same turn again
MEMORY_TURN = "memory_turn"


@attrs.frozen
class Context:
    request_id: str
    dialect: Dialect = "anthropic"
    session_id: str | None = None
    client_model: str = ""
    # set by the server when it falls back: the route stage must choose this provider
    forced_provider: str | None = None
    forced_reason: str = ""
    user: str | None = None  # the inbound key's name, when keys are on (whose memories)
    workspace: str = ""  # the x-lynkr-workspace header, when sent (which memories)


@attrs.frozen
class Route:
    provider: str
    model: str
    reason: str = ""
    fallbacks: tuple[str, ...] = ()  # providers to try, in order, if this one fails
    # the reason's kind, a closed set for metrics labels: configured, pipeline, tier,
    # side_request, no_tier_fits, fallback
    kind: str = "configured"


@attrs.frozen
class Note:
    """What one stage did, in a few words (goes to the log and the x-lynkr-* headers)."""

    stage: str
    summary: str
    tokens_removed: int = 0


@attrs.frozen
class Exchange:
    request: Request
    context: Context
    route: Route | None = None
    response: Response | None = None
    notes: tuple[Note, ...] = ()
    # What a stage leaves for the server, by "stage.key" (e.g. "prompt_cache.key": the digest
    # under which the server stores the answer).
    annotations: Mapping[str, str] = attrs.field(factory=dict)

    def noted(self, stage: str, summary: str, tokens_removed: int = 0, **changes: object
              ) -> Exchange:
        """This exchange with ``changes`` applied and a note added."""
        note = Note(stage, summary, tokens_removed)
        return attrs.evolve(self, notes=(*self.notes, note), **changes)  # type: ignore[arg-type]
