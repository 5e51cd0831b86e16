"""Everything the server builds once at start-up, in one record."""

from __future__ import annotations

import attrs

from lynkr.config.settings import Settings
from lynkr.pipeline.compile import Pipeline
from lynkr.ports import Ports
from lynkr.providers.http import HttpProvider


@attrs.define
class AppState:
    settings: Settings
    pipeline: Pipeline
    ports: Ports
    providers: dict[str, HttpProvider]
    ready: bool = True
