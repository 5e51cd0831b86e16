"""Operations endpoints on the real server: breakers as JSON and as a Prometheus gauge, deep
readiness probing the providers, and load shedding (503 + Retry-After, counted)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
from harness.fake_model import FakeModel
from harness.proxy import provider_env
from harness.servers import lynkr_state, serve_asgi, serve_lynkr, serve_state
from harness.slow_upstream import SlowUpstream
from harness.wire import Reply
from prometheus_client.parser import text_string_to_metric_families

BODY = {"model": "claude-x", "max_tokens": 50, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"anthropic-version": "2023-06-01"}


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def gauge(text: str, name: str) -> dict[str, float]:
    return {s.labels.get("provider", s.labels.get("reason", "")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name}


def test_breakers_as_json_and_as_a_gauge_read_at_scrape_time() -> None:
    with serve_asgi(FakeModel([Reply(text="ok")])) as upstream:
        state = lynkr_state({**provider_env("openai", upstream), "LOG_LEVEL": "warning",
                             "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "3",
                             "CIRCUIT_BREAKER_TIMEOUT": "60000"})
        with serve_state(state) as url, httpx.Client(base_url=url) as c:
            closed = c.get("/metrics/circuit-breakers").json()["circuit_breakers"]
            assert closed["openai"]["state"] == "closed"
            assert closed["openai"]["failure_threshold"] == 3
            assert gauge(c.get("/metrics/prometheus").text,
                         "lynkr_circuit_breaker_state") == {"openai": 0}
            breaker = state.breakers["openai"]
            for _ in range(3):
                breaker.record_failure(breaker.opened_at)
            tripped = c.get("/metrics/circuit-breakers").json()["circuit_breakers"]["openai"]
            assert gauge(c.get("/metrics/prometheus").text,
                         "lynkr_circuit_breaker_state") == {"openai": 2}
    assert tripped["state"] == "open" and tripped["trips"] == 1
    assert 0 <= tripped["half_open_in_s"] <= 60


def test_deep_readiness_probes_the_default_provider() -> None:
    with serve_asgi(FakeModel([Reply(text="ok")])) as upstream, \
            serve_lynkr({**provider_env("openai", upstream), "LOG_LEVEL": "warning"}) as url:
        shallow = httpx.get(url + "/health/ready")
        deep = httpx.get(url + "/health/ready?deep=true")
    assert shallow.status_code == 200 and shallow.json() == {"status": "ready"}
    assert deep.status_code == 200
    report = deep.json()
    assert report["status"] == "ready" and report["default_provider"] == "openai"
    assert report["providers"]["openai"]["ok"] is True
    assert report["providers"]["openai"]["detail"] == "openai answers; model 'fake-model'"
    assert upstream.removeprefix("http://") not in deep.text  # no URL to an anonymous caller


def test_deep_readiness_is_503_with_details_when_the_provider_is_down() -> None:
    dead = dead_url()
    with serve_lynkr({**provider_env("openai", dead), "LOG_LEVEL": "warning"}) as url:
        live = httpx.get(url + "/health/live")
        shallow = httpx.get(url + "/health/ready")
        deep = httpx.get(url + "/health/ready?deep=true", timeout=10)
    assert live.status_code == 200 and shallow.status_code == 200  # never upstream-bound
    assert deep.status_code == 503
    report = deep.json()
    assert report["status"] == "default_provider_unavailable"
    assert report["providers"]["openai"]["ok"] is False
    assert "is not answering" in report["providers"]["openai"]["detail"]
    assert dead.removeprefix("http://") not in deep.text


def test_over_the_threshold_requests_are_shed_but_probes_and_metrics_are_not() -> None:
    slow = SlowUpstream(delay=0.1)
    env = {**provider_env("openai", ""), "LOG_LEVEL": "warning",
           "LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD": "1"}
    with serve_asgi(slow) as upstream:
        env["OPENAI_ENDPOINT"] = upstream + "/v1"
        with serve_lynkr(env) as url, httpx.Client(base_url=url, timeout=20) as c:
            first_bytes = threading.Event()
            events: list[str] = []

            def hold() -> None:
                with httpx.stream("POST", url + "/v1/messages", json=BODY, headers=HEADERS,
                                  timeout=20) as response:
                    for line in response.iter_lines():
                        first_bytes.set()
                        if line.startswith("event: "):
                            events.append(line.removeprefix("event: "))

            holder = threading.Thread(target=hold)
            holder.start()
            assert first_bytes.wait(10)
            shed = c.post("/v1/messages", json=BODY, headers=HEADERS)
            shed_openai = c.post("/v1/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": "hi"}]})
            probes = [c.get(p).status_code for p in ("/health/live", "/health/ready",
                                                     "/health", "/metrics/observability")]
            holder.join(20)
            for _ in range(100):  # the client may see the end just before the server's app returns
                after = c.post("/v1/messages", json={**BODY, "stream": False}, headers=HEADERS)
                if after.status_code != 503:
                    break
                time.sleep(0.02)
            shed_counts = gauge(c.get("/metrics/prometheus").text, "lynkr_shed_total")
    assert shed.status_code == 503 and shed.headers["retry-after"] == "2"
    assert shed.json()["error"]["type"] == "overloaded_error"
    assert shed.headers["request-id"] == shed.json()["request_id"]
    assert shed_openai.status_code == 503 and shed_openai.json()["error"]["code"] == "overloaded"
    assert probes == [200, 200, 200, 200]
    assert events[-1] == "message_stop"
    assert after.status_code == 200  # the slot is free again
    assert shed_counts["active_requests"] >= 2


def test_deep_probes_are_rate_limited_and_readiness_reports_shedding() -> None:
    model = FakeModel([Reply(text="ok")])
    gets: list[str] = []

    async def counting(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            gets.append(scope["path"])
        await model(scope, receive, send)

    with serve_asgi(counting) as upstream:
        state = lynkr_state({**provider_env("openai", upstream), "LOG_LEVEL": "warning",
                             "HEALTH_DEEP_MIN_INTERVAL_MS": "60000"})
        with serve_state(state) as url, httpx.Client(base_url=url) as c:
            reports = [c.get("/health/ready?deep=true").json() for _ in range(5)]
            assert gets == ["/v1/models"]  # five deep calls, one round of upstream probes
            assert all(r["providers"]["openai"]["ok"] for r in reports)
            assert reports[-1]["age_s"] >= 0
            state.shedding = lambda: "memory above 85% of the limit"
            refused = c.get("/health/ready")
            state.shedding = lambda: None
            recovered = c.get("/health/ready")
    assert refused.status_code == 503
    assert refused.json() == {"status": "shedding", "reason": "memory above 85% of the limit"}
    assert recovered.status_code == 200
