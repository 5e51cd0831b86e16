"""Upstream failures and bad input: always a clean error in Anthropic's dialect, never a hang."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
from harness.fake_model import Fault
from harness.proxy import proxy
from harness.servers import serve_lynkr
from harness.wire import Reply
from sse_client import stream_events

from lynkr.model.events import MessageStop, StreamError

DIALECTS = ["openai", "ollama"]
BODY = {"model": "claude-x", "max_tokens": 100, "stream": True,
        "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "dummy"}


def assert_anthropic_error(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["request_id"] == response.headers["request-id"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("status", "status_out", "kind"), [
    (429, 429, "rate_limit_error"),
    (500, 502, "api_error"),
    (503, 529, "overloaded_error"),
    (400, 400, "invalid_request_error"),
])
def test_upstream_error_status_before_first_byte(dialect: str, status: int, status_out: int,
                                                 kind: str) -> None:
    fault = Fault("status", status=status, headers=(("retry-after", "7"),))
    with proxy(dialect, [fault]) as (url, _), httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
    body = assert_anthropic_error(response, status_out, kind)
    assert "boom" in body["error"]["message"]
    if status in (429, 503):
        assert response.headers["retry-after"] == "7"


def test_unreachable_upstream_names_provider_but_not_its_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    env = {"OLLAMA_ENDPOINT": f"http://127.0.0.1:{port}", "LOG_LEVEL": "warning",
           "API_RETRY_MAX_RETRIES": "0"}
    with serve_lynkr(env) as url, httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
    body = assert_anthropic_error(response, 502, "api_error")
    assert "ollama is not answering (connection refused)" in body["error"]["message"]
    assert f"127.0.0.1:{port}" not in response.text


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", ["cut", "malformed", "error_frame"])
def test_failure_after_first_byte_is_an_error_event(dialect: str, kind: str) -> None:
    with proxy(dialect, [Fault(kind, after=3)]) as (url, _), httpx.Client() as c:
        response, raw, events = stream_events(c, url, BODY)
    assert response.status_code == 200
    assert isinstance(events[-1], StreamError)
    assert MessageStop() not in events
    assert raw.endswith(b"\n\n") and b"event: error" in raw


@pytest.mark.parametrize("dialect", DIALECTS)
def test_failure_at_first_read_is_still_an_http_error(dialect: str) -> None:
    with proxy(dialect, [Fault("error_frame", after=0)]) as (url, _), httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
    body = assert_anthropic_error(response, 502, "api_error")
    assert "model crashed" in body["error"]["message"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_stalled_stream_ends_with_timeout_error_not_a_hang(dialect: str) -> None:
    timeout = {"OLLAMA_TIMEOUT_MS": "800"} if dialect == "ollama" else \
        {"OPENAI_TIMEOUT_MS": "800"}
    with proxy(dialect, [Fault("stall", after=3)], **timeout) as (url, _), \
            httpx.Client(timeout=10) as c:
        started = time.monotonic()
        response, _, events = stream_events(c, url, BODY)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert isinstance(events[-1], StreamError)
    assert events[-1].error_type == "timeout_error"
    assert elapsed < 5


@pytest.mark.parametrize("dialect", DIALECTS)
def test_stalled_non_streaming_answer_is_a_504(dialect: str) -> None:
    timeout = {"OLLAMA_TIMEOUT_MS": "800"} if dialect == "ollama" else \
        {"OPENAI_TIMEOUT_MS": "800"}
    with proxy(dialect, [Fault("stall", after=0)], **timeout) as (url, _), \
            httpx.Client(timeout=10) as c:
        response = c.post(url + "/v1/messages", json={**BODY, "stream": False},
                          headers=HEADERS)
    assert_anthropic_error(response, 504, "timeout_error")


@pytest.mark.parametrize(("body", "status", "fragment"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b"", 400, "empty"),
    (b'{"max_tokens": 5, "messages": []}', 400, "model"),
    (b'{"model": "m", "max_tokens": 5}', 400, "messages"),
    (b'{"model": "m", "max_tokens": "5", "messages": []}', 400, "max_tokens"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]}', 400,
     "role"),
    (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 5}]}', 400,
     "messages.0.content"),
    (b'{"model": "\xff\xfe", "max_tokens": 5, "messages": []}', 400, "UTF-8"),
])
def test_bad_input_is_a_400_in_anthropic_json(body: bytes, status: int, fragment: str) -> None:
    with proxy("openai", [Reply(text="never")]) as (url, fake), httpx.Client() as c:
        response = c.post(url + "/v1/messages", content=body,
                          headers={**HEADERS, "content-type": "application/json"})
    payload = assert_anthropic_error(response, status, "invalid_request_error")
    assert fragment.lower() in payload["error"]["message"].lower()
    assert fake.calls == []


def test_body_over_the_limit_is_a_413() -> None:
    with proxy("openai", [Reply(text="never")], MAX_REQUEST_BODY_BYTES="2048") as (url, fake), \
            httpx.Client() as c:
        big = {**BODY, "messages": [{"role": "user", "content": "x" * 5000}]}
        response = c.post(url + "/v1/messages", json=big, headers=HEADERS)
    assert_anthropic_error(response, 413, "request_too_large")
    assert fake.calls == []


def test_request_id_is_honoured_and_echoed() -> None:
    with proxy("openai", [Fault("status", status=500)]) as (url, _), httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY,
                          headers={**HEADERS, "x-request-id": "trace-123"})
    assert response.headers["request-id"] == "trace-123"
    assert response.json()["request_id"] == "trace-123"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/nowhere", 404),
    ("GET", "/v1/messages", 405),
    ("DELETE", "/health", 405),
])
def test_unknown_paths_and_methods_get_json_errors(method: str, path: str, status: int) -> None:
    with proxy("openai", [Reply(text="never")]) as (url, _), httpx.Client() as c:
        response = c.request(method, url + path, headers=HEADERS)
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert response.headers["request-id"]


def test_client_going_away_stops_the_upstream_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="lynkr.request")
    with proxy("openai", [Fault("stall", after=3)], OPENAI_TIMEOUT_MS="30000") as (url, _):
        with httpx.Client(timeout=10) as c, c.stream(
                "POST", url + "/v1/messages", json=BODY, headers=HEADERS) as response:
            first = next(response.iter_raw())
            assert first.startswith(b"event: message_start")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
                getattr(r, "client_disconnected", False) for r in caplog.records):
            time.sleep(0.05)
    [record] = [r for r in caplog.records if getattr(r, "client_disconnected", False)]
    assert record.status == 499


def test_keep_alive_pings_while_the_upstream_is_silent(tmp_path) -> None:
    pipeline = tmp_path / "pings.yaml"
    pipeline.write_text("stages:\n  - normalize\n  - route\n  - map_model\n"
                        "  - capability_filter\n  - egress:\n      ping_interval_s: 0.3\n")
    with proxy("openai", [Fault("stall", after=3)], str(pipeline),
               OPENAI_TIMEOUT_MS="1500") as (url, _), httpx.Client(timeout=10) as c:
        _, raw, events = stream_events(c, url, BODY)
    pings = raw.count(b"event: ping\ndata: {\"type\":\"ping\"}\n\n")
    assert 3 <= pings <= 6  # about one every 0.3 s of the 1.5 s silence
    assert isinstance(events[-1], StreamError) and events[-1].error_type == "timeout_error"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/responses"])
@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'{"messages": [], "input": "x"}', "model"),
])
def test_openai_endpoints_answer_bad_input_in_openai_json(path: str, body: bytes,
                                                          fragment: str) -> None:
    with proxy("openai", [Reply(text="never")]) as (url, fake), httpx.Client() as c:
        response = c.post(url + path, content=body,
                          headers={"content-type": "application/json",
                                   "authorization": "Bearer x"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert fragment.lower() in error["message"].lower()
    assert response.headers["request-id"]
    assert "Traceback" not in response.text
    assert fake.calls == []
