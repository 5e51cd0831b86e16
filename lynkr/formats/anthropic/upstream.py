"""Canonical Request → the body and headers an Anthropic-dialect upstream takes.

Near pass-through: the canonical request is already Anthropic's shape, so the body is
``render_request`` (cache_control, thinking blocks with their signatures and unknown top-level
fields kept) with ``stream`` forced on: a client that asked for one JSON answer gets the fold of
the same events. Betas go into the ``anthropic-beta`` header, filtered by what the backend takes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from lynkr.formats.anthropic.request import render_request
from lynkr.model.request import Request

# an OpenAI client may set no limit and a pipeline without map_model leave it unset (0);
# the Messages API requires one
FALLBACK_MAX_TOKENS = 32000


def build_messages_request(request: Request) -> dict[str, Any]:
    body = render_request(request)
    body["stream"] = True
    if not body.get("max_tokens"):
        body["max_tokens"] = FALLBACK_MAX_TOKENS
    return body


def beta_header(betas: tuple[str, ...], allowed: Collection[str] | None) -> str | None:
    """The ``anthropic-beta`` value: ``allowed`` None passes every beta through."""
    kept = [b for b in betas if allowed is None or b in allowed]
    return ",".join(dict.fromkeys(kept)) or None
