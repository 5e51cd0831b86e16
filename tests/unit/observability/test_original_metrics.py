"""The original's quantiles, error counting and breaker shape, on known values."""

from __future__ import annotations

from datetime import UTC, datetime

from lynkr.observability.original import OriginalMetrics, original_breaker, quantile


def test_nearest_rank_quantiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [quantile(values, q) for q in (0.5, 0.95, 0.99)] == [50.0, 95.0, 99.0]
    assert quantile([], 0.5) == 0.0 and quantile([7.0], 0.99) == 7.0


def test_errors_are_4xx_5xx_or_a_broken_stream_and_the_window_is_bounded() -> None:
    metrics = OriginalMetrics(window=2)
    for status, ms, errored in ((200, 10, False), (429, 20, False), (200, 30, True)):
        metrics.record(status=status, ms=ms, provider="ollama", errored=errored)
    out = metrics.observability()
    assert out["requests"] == {"total": 3, "errors": 2, "errorRate": 0.6667}
    assert out["latency"]["count"] == 2 and out["latency"]["p99"] == 30.0
    assert out["ollama"]["successes"] == 1 and out["ollama"]["successRate"] == 0.3333


def test_breaker_in_the_originals_shape() -> None:
    now = datetime(2024, 1, 15, 10, 25, tzinfo=UTC)
    shape = original_breaker({"state": "half_open", "failures": 5, "successes": 1}, 60.0, 30.0,
                             now)
    assert shape == {"state": "HALF_OPEN", "failureCount": 5, "successCount": 1,
                     "lastFailure": "2024-01-15T10:24:00.000Z",
                     "nextAttempt": "2024-01-15T10:25:30.000Z"}
