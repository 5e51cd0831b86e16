"""Prometheus metrics, one registry per app (tests build as many apps as they like).

Everything a request did is recorded once, at its end, from the same fields that go to the
log line, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from lynkr.model.events import Usage
from lynkr.observability.cost import PriceTable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
STAGE_BUCKETS = (0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05)
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
                             ["provider"], registry=registry)
        self.errors = Counter("lynkr_errors_total", "Requests that ended in an error",
                              ["dialect", "type"], registry=registry)
        self.active_requests = Gauge("lynkr_active_requests", "Requests in flight",
                                     registry=registry)
        self.active_streams = Gauge("lynkr_active_streams", "Streams being sent",
                                    registry=registry)
        self.shed = Counter("lynkr_shed_total", "Requests refused with 503 by load shedding",
                            ["reason"], registry=registry)
        self.cost = Counter("lynkr_cost_usd_total", "Estimated spend from the price table",
                            ["provider", "model"], registry=registry)
        self.savings = Counter("lynkr_routing_savings_usd_total",
                               "Estimated saving against the price table's reference model",
                               ["provider"], registry=registry)

    def record(self, fields: Mapping[str, Any]) -> None:
        """One finished request, from its log fields."""
        dialect = str(fields.get("dialect", ""))
        provider = str(fields.get("provider") or "none")
        self.requests.labels(dialect, provider, str(fields.get("status", 0))).inc()
        if "ms" in fields:
            self.duration.labels(dialect, provider).observe(fields["ms"] / 1000)
        if "ttfb_ms" in fields:
            self.ttfb.labels(dialect, provider).observe(fields["ttfb_ms"] / 1000)
        for stage, micros in (fields.get("stage_us") or {}).items():
            self.stage_time.labels(stage).observe(micros / 1e6)
        for stage, removed in (fields.get("stage_tokens_removed") or {}).items():
            if removed:
                self.tokens_removed.labels(stage).inc(removed)
        if fields.get("route_reason"):  # the kind of reason, not its numbers (cardinality)
            kind = str(fields["route_reason"]).split(" (")[0].split(":")[0]
            self.routes.labels(provider, kind).inc()
        model = str(fields.get("upstream_model") or "")
        for direction in ("input", "output"):
            count = fields.get(f"{direction}_tokens")
            if count:
                self.tokens.labels(provider, model, direction).inc(count)
        read, written = fields.get("cache_read_tokens") or 0, fields.get("cache_write_tokens") or 0
        if read:
            self.cache_tokens.labels(provider, model, "read").inc(read)
        if written:
            self.cache_tokens.labels(provider, model, "write").inc(written)
        if self.prices is not None and (fields.get("input_tokens") or
                                        fields.get("output_tokens")):
            usage = Usage(max((fields.get("input_tokens") or 0) - read - written, 0),
                          fields.get("output_tokens") or 0, written, read)
            spent, saved = self.prices.cost(provider, model, usage)
            if spent is not None:
                self.cost.labels(provider, model).inc(spent)
                self.savings.labels(provider).inc(saved)
        if fields.get("cache"):
            self.cache.labels(str(fields["cache"])).inc()
        error_type = fields.get("error_type") or ("stream_error" if fields.get("stream_error")
                                                  else None)
        if error_type:
            self.errors.labels(dialect, str(error_type)).inc()

    def shed_one(self, reason: str) -> None:
        """A request the load shedder refused (``active_requests``, ``memory``, ``shutdown``)."""
        self.shed.labels(reason).inc()

    def breaker_states(self, states: Mapping[str, str]) -> None:
        """Set the breaker gauge from each provider's state name (read at scrape time)."""
        for provider, state in states.items():
            self.breaker.labels(provider).set(BREAKER_VALUES.get(state, -1))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
