"""How a stage is declared: a short name, an attrs config class and one function.

A stage may also declare a stream tap (``tap``): a function ``(exchange, config, ports) ->
StreamTap | None`` called once the pipeline has run, whose tap then watches the answer on its
way out (the prompt cache stores what it looked up this way; memory extraction will too).
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
    kind: Literal["request", "egress"] = "request"
    is_async: bool = False
    needs_route: bool = False  # must come after a stage that sets the route
    sets_route: bool = False
    tap: TapFn | None = None  # a stream tap on the answer, for this stage's own use
