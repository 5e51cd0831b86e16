"""How a stage is declared: a short name, an attrs config class and one function.

A stage may also declare a stream tap (``tap``): a function ``(exchange, config, ports) ->
StreamTap | None`` called once the pipeline has run, whose tap then watches the answer on its
way out (the prompt cache stores what it looked up this way). A stage of kind ``tap`` has no
request function at all: it only watches (memory extraction, usage accounting).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs

from lynkr.ports import Ports, StreamTap
from lynkr.stages.exchange import Exchange

StageFn = Callable[[Exchange, Any, Ports], Exchange | Awaitable[Exchange]]
TapFn = Callable[[Exchange, Any, Ports], StreamTap | None]


@attrs.frozen
class StageSpec:
    name: str
    config: type
    run: StageFn | None
    doc: str
    # request: a function over the exchange (and maybe a tap); tap: only watches answers
    # (``run`` is None, ``tap`` is set); egress: the last line, how answers go out
    kind: Literal["request", "tap", "egress"] = "request"
    is_async: bool = False
    needs_route: bool = False  # must come after a stage that sets the route
    sets_route: bool = False
    tap: TapFn | None = None  # a stream tap on the answer, for this stage's own use
    # the answer cache (``ports.cache``) this stage's config asks for: (entries, ttl seconds),
    # or None when it needs none; the server builds the port from it
    wants_cache: Callable[[Any], tuple[int, float] | None] | None = None
