"""Metrics after real requests, read back with prometheus-client's own text parser."""

from __future__ import annotations

import time

import httpx
from harness.fake_model import Fault
from harness.proxy import proxy
from harness.wire import Reply, ToolCall
from prometheus_client.parser import text_string_to_metric_families
from sse_client import stream_events

BODY = {"model": "claude-x", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "Bash", "description": "Run.", "input_schema": {"type": "object"}},
                  {"name": "WebFetch",
                   "description": "Fetch a page. " + "It follows redirects. " * 200,
                   "input_schema": {"type": "object"}}]}


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape_when(c: httpx.Client, url: str, name: str) -> dict:
    """The metrics once ``name`` has a sample: a request is recorded just after its last byte
    went out, so a scrape right after it may come first."""
    deadline = time.monotonic() + 5
    while True:
        got = parse(c.get(url + "/metrics/prometheus").text)
        if any(key[0] == name for key in got) or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_requests_tokens_stages_and_errors_are_exported() -> None:
    script = [Reply(text="ok", tool_calls=(ToolCall("Bash", {"command": "ls"}),)),
              Fault("status", status=429)]
    with proxy("openai", script) as (url, _), httpx.Client() as c:
        response, _, _ = stream_events(c, url, BODY)
        removed = response.headers["x-lynkr-tokens-removed-by-stage"]
        c.post(url + "/v1/messages", json={**BODY, "stream": False},
               headers={"anthropic-version": "2023-06-01"})
        got = scrape_when(c, url, "lynkr_errors_total")
        exposition = c.get(url + "/metrics/prometheus")
        observability = c.get(url + "/metrics/observability").json()
    assert exposition.headers["content-type"].startswith("text/plain")
    ok = frozenset({("dialect", "anthropic"), ("provider", "openai"), ("status", "200")})
    limited = frozenset({("dialect", "anthropic"), ("provider", "openai"), ("status", "429")})
    assert got[("lynkr_requests_total", ok)] == 1
    assert got[("lynkr_requests_total", limited)] == 1
    assert got[("lynkr_tokens_total", frozenset({("provider", "openai"),
                                                  ("model", "fake-model"),
                                                  ("direction", "input")}))] == 120
    assert got[("lynkr_errors_total", frozenset({("dialect", "anthropic"),
                                                  ("type", "rate_limit_error")}))] == 1
    assert "tool_selection=" in removed  # WebFetch's long description was shortened
    stage = int(removed.split("tool_selection=")[1].split(",")[0])
    assert got[("lynkr_stage_tokens_removed_total",
                frozenset({("stage", "tool_selection")}))] >= stage > 0
    assert got[("lynkr_active_requests", frozenset())] == 0
    assert got[("lynkr_time_to_first_byte_seconds_count",
                frozenset({("dialect", "anthropic"), ("provider", "openai")}))] == 1
    assert "lynkr_requests" in observability["metrics"]


def test_cost_and_routing_savings_from_the_price_table(tmp_path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("reference: {input: 3.0, output: 15.0}\n"
                      "providers:\n  ollama: {'*': {input: 0, output: 0}}\n")
    with proxy("ollama", [Reply(text="ok")], LYNKR_PRICES=str(prices)) as (url, _), \
            httpx.Client() as c:
        stream_events(c, url, {**BODY, "tools": []})
        got = scrape_when(c, url, "lynkr_routing_savings_usd_total")
    assert got[("lynkr_cost_usd_total", frozenset({("provider", "ollama"),
                                                    ("model", "fake-model")}))] == 0
    saved = got[("lynkr_routing_savings_usd_total", frozenset({("provider", "ollama")}))]
    assert saved == (120 * 3.0 + 12 * 15.0) / 1_000_000


def test_secrets_never_reach_the_log(caplog) -> None:
    caplog.set_level("DEBUG", logger="lynkr")
    with proxy("openai", [Reply(text="ok"), Fault("status", status=401)]) as (url, _), \
            httpx.Client() as c:
        for _ in range(2):
            c.post(url + "/v1/messages", json={**BODY, "stream": False},
                   headers={"x-api-key": "client-secret-123", "anthropic-version": "2023-06-01",
                            "authorization": "Bearer client-bearer-456"})
        scrape_when(c, url, "lynkr_errors_total")
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "request" in logged  # the request lines were captured
    for secret in ("sk-upstream-secret", "client-secret-123", "client-bearer-456"):
        assert secret not in logged
