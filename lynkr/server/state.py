"""Everything the server builds once at start-up, in one record."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from lynkr.bench.record import SessionRecorder
from lynkr.config.settings import Settings
from lynkr.config.tools import ToolLoopSettings
from lynkr.embeddings import Embedder
from lynkr.memory.service import MemoryService
from lynkr.observability.metrics import Metrics
from lynkr.pipeline.compile import Pipeline
from lynkr.pipeline.effective import Loaded
from lynkr.ports import Ports, Upstream
from lynkr.resilience.breaker import CircuitBreaker
from lynkr.storage.responses import ResponseStore
from lynkr.tools.port import ToolBox

if TYPE_CHECKING:
    from lynkr.server.auth import Access
    from lynkr.server.shared_state import SharedState


@attrs.define
class AppState:
    settings: Settings
    pipeline: Pipeline  # swapped whole by a reload (server/reload.py); read once per request
    ports: Ports
    upstreams: dict[str, Upstream]  # each configured provider, by name
    ready: bool = True
    embeddings: Embedder | None = None  # None: not configured, /v1/embeddings answers 501
    responses: ResponseStore | None = None  # conversations for previous_response_id
    metrics: Metrics = attrs.field(factory=Metrics)
    breakers: dict[str, CircuitBreaker] = attrs.field(factory=dict)  # per provider
    # why the load shedder refuses every request now (memory), else None; for readiness
    shedding: Callable[[], str | None] = lambda: None
    recorder: SessionRecorder | None = None  # LYNKR_RECORD_DIR: requests kept for lynkr bench
    access: Access | None = None  # inbound keys and their limits (None: keys are off)
    tool_loop: ToolLoopSettings = attrs.field(factory=ToolLoopSettings)
    # Lynkr's own tool boxes: those a test put here, then lynkr.tools.assemble's at start-up
    toolboxes: tuple[ToolBox, ...] = ()
    shared: SharedState | None = None  # where limits and breaker trips are shared (REDIS_URL)
    memory: MemoryService | None = None  # long-term memory (None: MEMORY_ENABLED=false)
    # which pipeline serves new requests: name@hash#generation (x-lynkr-pipeline)
    pipeline_version: str = ""
    loaded: Loaded | None = None  # the file it came from (None: a test's Pipeline value)
