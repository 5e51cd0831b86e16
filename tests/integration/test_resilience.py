"""Retries, circuit breakers and fallbacks against real servers with injected faults.

Every request ends in a success or a clean error in the client's dialect; retries and fallbacks
happen only before the first byte reached the client.
"""

from __future__ import annotations

import socket

import httpx
from harness.fake_model import FakeModel, Fault
from harness.proxy import provider_env, proxy
from harness.servers import serve_asgi, serve_lynkr
from harness.wire import Reply
from sse_client import stream_events

from lynkr.model.events import MessageStop, StreamError, TextDelta

BODY = {"model": "claude-x", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}
QUICK = {"API_RETRY_MAX_RETRIES": "3", "API_RETRY_INITIAL_DELAY": "10",
         "API_RETRY_MAX_DELAY": "50"}


def text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_429_and_500_are_retried_then_the_answer_streams() -> None:
    script = [Fault("status", status=429, headers=(("retry-after", "0"),)),
              Fault("status", status=500), Reply(text="third time lucky")]
    with proxy("openai", script, **QUICK) as (url, fake), httpx.Client() as c:
        response, _, events = stream_events(c, url, BODY)
    assert response.status_code == 200
    assert text(events) == "third time lucky" and events[-1] == MessageStop()
    assert len(fake.calls) == 3


def test_no_retry_after_the_first_byte() -> None:
    with proxy("openai", [Fault("cut", after=4), Reply(text="never")], **QUICK) as (url, fake), \
            httpx.Client() as c:
        response, _, events = stream_events(c, url, BODY)
    assert response.status_code == 200
    assert isinstance(events[-1], StreamError)
    assert len(fake.calls) == 1


def test_a_bad_request_is_not_retried() -> None:
    with proxy("openai", [Fault("status", status=400)], **QUICK) as (url, fake), \
            httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY,
                          headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 400
    assert len(fake.calls) == 1


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fallback_to_the_next_provider_and_the_breaker_makes_it_immediate() -> None:
    """Ollama is down; FALLBACK_PROVIDER answers. After the breaker opens, Ollama is no longer
    tried at all (its connection attempts stop)."""
    backup = FakeModel([Reply(text="from the fallback")])
    with serve_asgi(backup) as backup_url:
        env = {**provider_env("openai", backup_url), "MODEL_PROVIDER": "ollama",
               "OLLAMA_ENDPOINT": f"http://127.0.0.1:{dead_port()}",
               "FALLBACK_PROVIDER": "openai", "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "2",
               "CIRCUIT_BREAKER_TIMEOUT": "60000", "API_RETRY_MAX_RETRIES": "1",
               "API_RETRY_INITIAL_DELAY": "10", "LOG_LEVEL": "warning"}
        with serve_lynkr(env) as url, httpx.Client() as c:
            results = [stream_events(c, url, BODY) for _ in range(3)]
            breakers = c.get(url + "/metrics/prometheus").text
    for response, _, events in results:
        assert response.status_code == 200
        assert text(events) == "from the fallback"
        assert response.headers["x-lynkr-fallback"].startswith("openai/")
        assert "x-lynkr-route" in response.headers
    assert len(backup.calls) == 3
    assert 'lynkr_fallbacks_total{from_provider="ollama",to_provider="openai"} 3.0' in breakers
    # the first request tried ollama twice (one retry) and tripped the breaker (threshold 2);
    # later ones skipped it: their fallback reason is the open circuit
    assert "CircuitOpen" in results[-1][0].headers["x-lynkr-fallback"]


def test_without_a_fallback_every_failure_is_a_clean_error() -> None:
    with proxy("ollama", [Fault("status", status=503)], **QUICK) as (url, fake), \
            httpx.Client() as c:
        response = c.post(url + "/v1/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 503
    assert response.json()["error"]["message"]
    assert len(fake.calls) == 4  # one call and three retries


def test_prefer_ollama_routes_by_tool_count() -> None:
    local, cloud = FakeModel([Reply(text="local")]), FakeModel([Reply(text="cloud")])
    tool = {"name": "T", "description": "t", "input_schema": {"type": "object"}}
    with serve_asgi(local) as local_url, serve_asgi(cloud) as cloud_url:
        env = {**provider_env("openai", cloud_url), **provider_env("ollama", local_url),
               "MODEL_PROVIDER": "openai", "PREFER_OLLAMA": "true",
               "OLLAMA_MAX_TOOLS_FOR_ROUTING": "3", "LOG_LEVEL": "warning",
               # the client's tools alone (Lynkr's own, such as memory's, count too)
               "MEMORY_ENABLED": "false"}
        with serve_lynkr(env, "passthrough") as url, httpx.Client() as c:
            few = {**BODY, "tools": [{**tool, "name": f"T{i}"} for i in range(2)]}
            many = {**BODY, "tools": [{**tool, "name": f"T{i}"} for i in range(12)]}
            small, _, small_events = stream_events(c, url, few)
            big, _, big_events = stream_events(c, url, many)
    assert text(small_events) == "local" and small.headers["x-lynkr-route"].startswith("ollama/")
    assert text(big_events) == "cloud"
    assert "not ollama: 12 tools > 3" in big.headers["x-lynkr-route"]
    assert len(local.calls) == 1 and len(cloud.calls) == 1
