"""The original Lynkr's metric names and JSON shapes, served alongside Lynkr's own after real
requests: ``http_requests_total``, ``http_request_errors_total`` and the
``http_request_duration_seconds`` summary; ``/metrics/observability``'s requests, latency,
tokens, cost and per-provider blocks; ``/metrics/circuit-breakers``' top-level providers;
``/health/ready?deep=true``'s ``checks``."""

from __future__ import annotations

import time

import httpx
from harness.fake_model import Fault
from harness.proxy import proxy
from harness.wire import Reply
from prometheus_client.parser import text_string_to_metric_families

BODY = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"anthropic-version": "2023-06-01"}


def samples(text: str) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("quantile", "")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_original_names_and_shapes_after_two_answers_and_one_error() -> None:
    script = [Reply(text="one", prompt_tokens=100, completion_tokens=10),
              Reply(text="two", prompt_tokens=100, completion_tokens=10),
              Fault("status", status=500)]
    with proxy("openai", script, OPENAI_MODEL="gpt-4o") as (url, _), httpx.Client() as c:
        statuses = [c.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=20)
                    .status_code for _ in range(3)]
        deadline = time.monotonic() + 5  # recorded just after the last byte went out
        while (got := samples(c.get(url + "/metrics/prometheus").text)).get(
                ("http_requests_total", "")) != 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        observability = c.get(url + "/metrics/observability").json()
        breakers = c.get(url + "/metrics/circuit-breakers").json()
    assert statuses == [200, 200, 502]
    assert got[("http_requests_total", "")] == 3
    assert got[("http_request_errors_total", "")] == 1
    assert got[("http_request_duration_seconds_count", "")] == 3
    quantiles = [got[("http_request_duration_seconds", q)] for q in ("0.5", "0.95", "0.99")]
    assert 0 < quantiles[0] <= quantiles[1] <= quantiles[2] < 20
    assert observability["requests"] == {"total": 3, "errors": 1, "errorRate": 0.3333}
    assert observability["latency"]["count"] == 3
    assert observability["latency"]["p50"] == round(quantiles[0] * 1000, 1)
    assert observability["tokens"] == {"input": 200, "output": 20, "total": 220}
    assert observability["cost"]["currency"] == "USD" and observability["cost"]["total"] > 0
    assert observability["openai"]["requests"] == 3
    assert observability["openai"]["failures"] == 1
    assert "lynkr_requests" in observability["metrics"]  # Lynkr's own, alongside
    ours = breakers["circuit_breakers"]["openai"]
    assert ours["state"] == "closed" and ours["failures"] >= 1
    assert breakers["openai"] == {"state": "CLOSED", "failureCount": ours["failures"],
                                  "successCount": ours["successes"], "lastFailure": None,
                                  "nextAttempt": None}


def test_deep_readiness_has_the_originals_checks() -> None:
    with proxy("openai", [Reply(text="ok")]) as (url, _):
        body = httpx.get(url + "/health/ready?deep=true", timeout=10).json()
    assert body["checks"]["openai"]["healthy"] is True
    assert body["checks"]["openai"]["latency"] == body["providers"]["openai"]["ms"]
    assert body["timestamp"].endswith("Z") and body["status"] == "ready"
