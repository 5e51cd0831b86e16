"""How a stage is declared: a short name, an attrs config class and one function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs

from lynkr.ports import Ports
from lynkr.stages.exchange import Exchange

StageFn = Callable[[Exchange, Any, Ports], Exchange | Awaitable[Exchange]]


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
