"""Prometheus metrics, one registry per app (tests build as many apps as they like).

Everything a request did is recorded once, at its end, from its ``RequestRecord`` (the same
record the log line projects), so the two never disagree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from lynkr.observability.cost import PriceTable
from lynkr.observability.original import OriginalMetrics
from lynkr.observability.record import RequestRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
STAGE_BUCKETS = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05)
MAX_CHILDREN = 4096  # labelled children kept at hand
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


class Metrics:
    def __init__(self, prices: PriceTable | None = None) -> None:
        self.prices = prices
        self.registry = registry = CollectorRegistry()
        self.requests = Counter("lynkr_requests_total", "Requests answered, by outcome",
                                ["dialect", "provider", "status"], registry=registry)
        self.duration = Histogram("lynkr_request_duration_seconds",
                                  "Whole request time, first byte in to last byte out",
                                  ["dialect", "provider"], buckets=LATENCY_BUCKETS,
                                  registry=registry)
        self.ttfb = Histogram("lynkr_time_to_first_byte_seconds",
                              "Request start to the first byte sent to the client",
                              ["dialect", "provider"], buckets=LATENCY_BUCKETS,
                              registry=registry)
        self.tokens = Counter("lynkr_tokens_total", "Tokens reported by upstreams",
                              ["provider", "model", "direction"], registry=registry)
        self.cache_tokens = Counter("lynkr_upstream_cache_tokens_total",
                                    "Input tokens the upstream reported reading from or "
                                    "writing to its prompt cache",
                                    ["provider", "model", "kind"], registry=registry)
        self.tokens_removed = Counter("lynkr_stage_tokens_removed_total",
                                      "Tokens removed by each pipeline stage", ["stage"],
                                      registry=registry)
        self.stage_time = Histogram("lynkr_stage_duration_seconds", "Time in each stage",
                                    ["stage"], buckets=STAGE_BUCKETS, registry=registry)
        self.cache = Counter("lynkr_prompt_cache_total", "Prompt cache lookups", ["result"],
                             registry=registry)
        self.routes = Counter("lynkr_route_decisions_total", "Routes chosen",
                              ["provider", "reason"], registry=registry)
        self.fallbacks = Counter("lynkr_fallbacks_total", "Fallbacks to another provider",
                                 ["from_provider", "to_provider"], registry=registry)
        self.retries = Counter("lynkr_retries_total", "Upstream retries before the first byte",
                               ["provider", "reason"], registry=registry)
        self.breaker = Gauge("lynkr_circuit_breaker_state",
                             "Breaker state per provider (0 closed, 1 half-open, 2 open)",
                             ["provider"], registry=registry, multiprocess_mode="max")
        self.errors = Counter("lynkr_errors_total", "Requests that ended in an error",
                              ["dialect", "type"], registry=registry)
        self.active_requests = Gauge("lynkr_active_requests", "Requests in flight",
                                     registry=registry, multiprocess_mode="livesum")
        self.active_streams = Gauge("lynkr_active_streams", "Streams being sent",
                                    registry=registry, multiprocess_mode="livesum")
        self.shed = Counter("lynkr_shed_total", "Requests refused with 503 by load shedding",
                            ["reason"], registry=registry)
        self.cost = Counter("lynkr_cost_usd_total", "Estimated spend from the price table",
                            ["provider", "model"], registry=registry)
        self.savings = Counter("lynkr_routing_savings_usd_total",
                               "Estimated saving against the price table's reference model",
                               ["provider"], registry=registry)
        self.tool_calls = Counter("lynkr_tool_calls_total",
                                  "Calls the server-side tool loop ran, by outcome "
                                  "(ok, error, timeout, failed)", ["box", "tool", "outcome"],
                                  registry=registry)
        self.tool_errors = Counter("lynkr_tool_errors_total",
                                   "Tool loop calls that answered is_error (any outcome but ok)",
                                   ["box", "tool"], registry=registry)
        self.tool_duration = Histogram("lynkr_tool_duration_seconds",
                                       "Time of each tool loop call", ["box", "tool"],
                                       buckets=LATENCY_BUCKETS, registry=registry)
        self.tool_steps = Histogram("lynkr_tool_loop_steps", "Model calls per answer of the "
                                    "tool loop", buckets=(1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32),
                                    registry=registry)
        self.pipeline_reloads = Counter("lynkr_pipeline_reloads_total", "Pipeline file "
                                        "reloads by outcome (reloaded, unchanged, failed)",
                                        ["outcome"], registry=registry)
        self.original = OriginalMetrics()  # the original Lynkr's names, alongside
        registry.register(self.original)
        # each labelled child once: prometheus_client's labels() takes a lock and checks the
        # values on every call, about 20 times per request here (label values are few)
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            if len(self._children) >= MAX_CHILDREN:  # label values a client chose, say
                self._children.clear()
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(self, record: RequestRecord) -> None:
        """One finished request, from its record (the log line is the same record's)."""
        dialect = record.dialect
        route = record.route
        provider = route.provider if route else "none"
        self._child(self.requests, dialect, provider, str(record.status or 0)).inc()
        if record.ms is not None:
            self._child(self.duration, dialect, provider).observe(record.ms / 1000)
        if record.ttfb_ms is not None:
            self._child(self.ttfb, dialect, provider).observe(record.ttfb_ms / 1000)
        for stage in record.stages:
            self._child(self.stage_time, stage.stage).observe(stage.micros / 1e6)
            if stage.tokens_removed:
                self._child(self.tokens_removed, stage.stage).inc(stage.tokens_removed)
        if route is not None:
            self._child(self.routes, provider, route.kind).inc()
        model = route.model if route else ""
        usage = record.usage
        spent = None
        if usage is not None:
            for direction, count in (("input", record.input_tokens),
                                     ("output", record.output_tokens)):
                if count:
                    self._child(self.tokens, provider, model, direction).inc(count)
            # as the upstream said, never estimated
            read, written = usage.cache_read_input_tokens, usage.cache_creation_input_tokens
            if read:
                self._child(self.cache_tokens, provider, model, "read").inc(read)
            if written:
                self._child(self.cache_tokens, provider, model, "write").inc(written)
            if self.prices is not None and (record.input_tokens or record.output_tokens):
                spent, saved = self.prices.cost(provider, model, usage)
                if spent is not None:
                    self._child(self.cost, provider, model).inc(spent)
                    self._child(self.savings, provider).inc(saved)
        if record.cache:
            self._child(self.cache, record.cache).inc()
        if record.tool_steps:
            self._tools(record)
        error_type = record.error_type or ("stream_error" if record.stream_error else None)
        if error_type:
            self._child(self.errors, dialect, error_type).inc()
        self.original.record(status=record.status or 0, ms=record.ms,
                             provider=route.provider if route else None,
                             input_tokens=record.input_tokens,
                             output_tokens=record.output_tokens, errored=bool(error_type),
                             retries=record.retries, cost=spent)

    def _tools(self, record: RequestRecord) -> None:
        self.tool_steps.observe(record.tool_steps)
        for call in record.tool_calls:
            self._child(self.tool_calls, call.box, call.tool, call.outcome).inc()
            if call.outcome != "ok":
                self._child(self.tool_errors, call.box, call.tool).inc()
            self._child(self.tool_duration, call.box, call.tool).observe(call.ms / 1000)

    def shed_one(self, reason: str) -> None:
        """A request the load shedder refused (``active_requests``, ``memory``, ``shutdown``)."""
        self.shed.labels(reason).inc()

    def breaker_states(self, states: Mapping[str, str]) -> None:
        """Set the breaker gauge from each provider's state name (read at scrape time)."""
        for provider, state in states.items():
            self.breaker.labels(provider).set(BREAKER_VALUES.get(state, -1))

    def exposition(self) -> bytes:
        """The text exposition; under ``lynkr start --workers N`` (PROMETHEUS_MULTIPROC_DIR set
        by Lynkr) the sum over every worker, read from the files they write."""
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=folder)
        return generate_latest(merged)
