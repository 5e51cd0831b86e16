"""A whole (non-streamed) response: the fold of a canonical event stream."""

from __future__ import annotations

import attrs

from lynkr.model.content import Block
from lynkr.model.events import Usage


@attrs.frozen
class Response:
    id: str
    model: str
    content: tuple[Block, ...]
    stop_reason: str | None
    usage: Usage
    stop_sequence: str | None = None
