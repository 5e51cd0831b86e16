"""The original Lynkr's metric names and JSON shapes, served alongside Lynkr's own so that
existing dashboards and alerts keep working.

Prometheus: ``http_requests_total``, ``http_request_errors_total`` and
``http_request_duration_seconds`` (a summary with the 0.5, 0.95 and 0.99 quantiles over the last
``WINDOW`` requests, as the original computed them). ``/metrics/observability``: its
``requests``, ``latency`` (milliseconds), ``tokens``, ``cost`` and per-provider blocks.
``/metrics/circuit-breakers``: each provider at the top level with ``state`` in capitals,
``failureCount``, ``successCount``, ``lastFailure`` and ``nextAttempt``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric, SummaryMetricFamily

WINDOW = 10_000  # requests the latency quantiles are computed over
QUANTILES = (0.5, 0.95, 0.99)


def quantile(ordered: list[float], q: float) -> float:
    """The nearest-rank quantile of sorted values (0 for none)."""
    if not ordered:
        return 0.0
    rank = max(int(q * len(ordered) + 0.999999) - 1, 0)
    return ordered[min(rank, len(ordered) - 1)]


class OriginalMetrics:
    """Counts kept from each finished request (``Metrics`` feeds it); a prometheus-client
    collector too (register it on the registry)."""

    def __init__(self, window: int = WINDOW) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.errors = 0
        self.seconds = 0.0
        self.recent: deque[float] = deque(maxlen=window)
        self.tokens = {"input": 0, "output": 0}
        self.cost = 0.0
        self.providers: dict[str, dict[str, int]] = {}

    def record(self, *, status: int, ms: float | None, provider: str | None,
               input_tokens: int = 0, output_tokens: int = 0, errored: bool = False,
               retries: int = 0, cost: float | None = None) -> None:
        """One finished request: an error is a status of 400 or more, or ``errored`` (a stream
        that broke after it started)."""
        failed = status >= 400 or errored
        with self._lock:
            self.total += 1
            self.errors += failed
            if ms is not None:
                self.seconds += ms / 1000
                self.recent.append(ms / 1000)
            self.tokens["input"] += input_tokens
            self.tokens["output"] += output_tokens
            self.cost += cost or 0.0
            if provider:
                counts = self.providers.setdefault(
                    provider, {"requests": 0, "successes": 0, "failures": 0, "retries": 0})
                counts["requests"] += 1
                counts["failures" if failed else "successes"] += 1
                counts["retries"] += retries

    def _quantiles(self) -> dict[float, float]:
        ordered = sorted(self.recent)
        return {q: quantile(ordered, q) for q in QUANTILES}

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            total, errors, seconds, quantiles = self.total, self.errors, self.seconds, \
                self._quantiles()
        yield CounterMetricFamily("http_requests", "Total number of HTTP requests", total)
        yield CounterMetricFamily("http_request_errors", "Total number of HTTP request errors",
                                  errors)
        summary = SummaryMetricFamily("http_request_duration_seconds", "HTTP request latency",
                                      count_value=total, sum_value=seconds)
        for q, value in quantiles.items():
            summary.add_sample("http_request_duration_seconds", {"quantile": str(q)}, value)
        yield summary

    def observability(self) -> dict[str, Any]:
        """The original's ``/metrics/observability`` blocks."""
        with self._lock:
            quantiles = self._quantiles()
            out: dict[str, Any] = {
                "requests": {"total": self.total, "errors": self.errors,
                             "errorRate": round(self.errors / self.total, 4) if self.total
                             else 0.0},
                "latency": {"p50": round(quantiles[0.5] * 1000, 1),
                            "p95": round(quantiles[0.95] * 1000, 1),
                            "p99": round(quantiles[0.99] * 1000, 1),
                            "count": len(self.recent)},
                "tokens": {**self.tokens, "total": sum(self.tokens.values())},
                "cost": {"total": round(self.cost, 6), "currency": "USD"},
            }
            for name, counts in self.providers.items():
                rate = counts["successes"] / counts["requests"] if counts["requests"] else 0.0
                out[name] = {**counts, "successRate": round(rate, 4)}
        return out


def original_breaker(snapshot: Mapping[str, Any], last_failure_at: float | None,
                     half_open_in_s: float | None, now: datetime | None = None
                     ) -> dict[str, Any]:
    """One provider's breaker in the original's shape, from Lynkr's snapshot; times are ISO
    8601 UTC wall-clock (``last_failure_at``: seconds ago, or None)."""
    now = now or datetime.now(UTC)

    def iso(seconds_from_now: float) -> str:
        moment = now.timestamp() + seconds_from_now
        return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds") \
            .replace("+00:00", "Z")

    return {
        "state": str(snapshot.get("state", "")).upper().replace("-", "_"),
        "failureCount": snapshot.get("failures", 0),
        "successCount": snapshot.get("successes", 0),
        "lastFailure": iso(-last_failure_at) if last_failure_at is not None else None,
        "nextAttempt": iso(half_open_in_s) if half_open_in_s is not None else None,
    }
