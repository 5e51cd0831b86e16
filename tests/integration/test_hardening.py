"""Bounded reads, secrets kept, private conversations and breakers that only trip on outages,
on the real server with fault-injecting fakes on loopback."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import httpx
import orjson
import pytest
import trio
from harness.asgi import handled_lifespan
from harness.fake_model import Fault
from harness.proxy import provider_env, proxy
from harness.servers import lynkr_state, serve_asgi, serve_lynkr, serve_state
from harness.slow_upstream import SlowUpstream
from harness.wire import Reply, openai_chunks

BODY = {"model": "claude-x", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "dummy"}
OPENAI_KEY = "sk-upstream-secret"  # harness.proxy's key for the openai dialect


class Endless:
    """An OpenAI upstream whose stream never ends: a text chunk every ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, size: int = 4096) -> None:
        self.delay, self.size = delay, size

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        frame = openai_chunks(Reply(text="x" * self.size))[1]
        while True:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            await trio.sleep(self.delay)


def test_a_stalled_request_body_gets_408_within_the_deadline() -> None:
    with serve_lynkr({"LOG_LEVEL": "warning", "REQUEST_BODY_TIMEOUT_MS": "300"}) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: "
                         b"application/json\r\ncontent-length: 1000\r\n\r\n{\"model\":")
            started = time.monotonic()
            answer = b""
            while b"MS)" not in answer and (chunk := sock.recv(65536)):
                answer += chunk
            waited = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"request-id" in head.lower()
    assert b"REQUEST_BODY_TIMEOUT_MS" in body
    assert 0.2 < waited < 5


@pytest.mark.parametrize(("path", "kind"), [
    ("/v1/messages", "anthropic"), ("/v1/chat/completions", "openai"),
    ("/v1/responses", "openai"), ("/v1/messages/count_tokens", "anthropic"),
])
def test_json_nested_deeper_than_the_limit_is_a_400_naming_it(path: str, kind: str) -> None:
    deep = "[" * 300 + "]" * 300
    body = ('{"model":"m","max_tokens":5,"input":"hi","messages":[{"role":"user","content":'
            '"hi"}],"metadata":{"x":' + deep + "}}")
    with proxy("openai", [Reply(text="never")]) as (url, fake), httpx.Client() as c:
        response = c.post(url + path, content=body, headers=HEADERS)
    assert response.status_code == 400, response.text
    assert "the limit is 128 (MAX_JSON_DEPTH)" in response.text
    assert response.headers["request-id"]
    assert fake.calls == []  # refused before any upstream call


def test_a_non_streamed_answer_that_never_ends_is_stopped_at_the_size_cap() -> None:
    with serve_asgi(Endless()) as upstream, serve_lynkr({
            **provider_env("openai", upstream), "LOG_LEVEL": "warning",
            "UPSTREAM_MAX_ANSWER_BYTES": "65536"}) as url, httpx.Client(timeout=30) as c:
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
    assert response.status_code == 502
    assert "UPSTREAM_MAX_ANSWER_BYTES" in response.json()["error"]["message"]


def test_a_non_streamed_answer_has_a_deadline_from_max_tokens() -> None:
    with serve_asgi(Endless(delay=0.05, size=1)) as upstream, serve_lynkr({
            **provider_env("openai", upstream), "LOG_LEVEL": "warning",
            "UPSTREAM_ANSWER_TIMEOUT_MS": "1000", "UPSTREAM_ANSWER_MS_PER_TOKEN": "5"}
            ) as url, httpx.Client(timeout=30) as c:
        started = time.monotonic()
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)  # 100 tokens
        waited = time.monotonic() - started
    assert response.status_code == 504
    assert "did not finish within 1.5s" in response.json()["error"]["message"]
    assert 1.4 < waited < 10


def test_the_proxys_own_key_refused_is_not_retried_counted_or_echoed(
        caplog: pytest.LogCaptureFixture) -> None:
    echo = Fault("status", status=401, body=orjson.dumps({"error": {
        "message": f"Incorrect API key provided: {OPENAI_KEY}", "type": "invalid_request_error"}}))
    with caplog.at_level(logging.INFO), proxy(
            "openai", [echo], API_RETRY_MAX_RETRIES="3",
            CIRCUIT_BREAKER_FAILURE_THRESHOLD="1") as (url, fake), httpx.Client() as c:
        first = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
        second = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
    assert len(fake.calls) == 2  # one per request: never retried, and no breaker opened
    for response in (first, second):
        assert response.status_code == 502
        message = response.json()["error"]["message"]
        assert "proxy's own credentials" in message and "[redacted]" in message
        assert OPENAI_KEY not in response.text
    assert OPENAI_KEY not in caplog.text


def test_a_password_in_the_endpoint_url_never_reaches_client_or_log(
        caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"OLLAMA_ENDPOINT": f"http://ops:hunter2secret@127.0.0.1:{port}",
           "LOG_LEVEL": "info", "API_RETRY_MAX_RETRIES": "0"}
    with caplog.at_level(logging.INFO), serve_lynkr(env) as url, httpx.Client() as c:
        response = c.post(url + "/v1/messages", json=BODY, headers=HEADERS)
        deep = c.get(url + "/health/ready?deep=true", timeout=10)
    assert response.status_code == 502
    for text in (response.text, deep.text, caplog.text):
        assert "hunter2secret" not in text


def test_waiting_for_a_pooled_connection_is_overload_not_a_provider_fault() -> None:
    slow = SlowUpstream(delay=0.3)
    with serve_asgi(slow) as upstream:
        state = lynkr_state({**provider_env("openai", upstream), "LOG_LEVEL": "warning",
                             "UPSTREAM_MAX_CONNECTIONS": "2", "UPSTREAM_POOL_TIMEOUT_MS": "200",
                             "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "1"})
        results: list[httpx.Response] = []

        def one() -> None:
            with httpx.Client(timeout=30) as c:
                results.append(c.post(url + "/v1/messages", json={**BODY, "stream": True},
                                      headers=HEADERS))

        with serve_state(state) as url:
            threads = [threading.Thread(target=one) for _ in range(5)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            after = httpx.post(url + "/v1/messages", json=BODY, headers=HEADERS, timeout=30)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 2 and statuses.count(529) == 3, statuses
    busy = next(r for r in results if r.status_code == 529)
    assert busy.json()["error"]["type"] == "overloaded_error"
    assert "UPSTREAM_MAX_CONNECTIONS" in busy.json()["error"]["message"]
    assert busy.headers["retry-after"]
    assert state.breakers["openai"].state.value == "closed"
    assert after.status_code == 200  # the provider was never considered down


def test_stored_conversations_belong_to_their_caller() -> None:
    with proxy("openai", [Reply(text="first answer")]) as (url, fake), httpx.Client() as c:
        alice = {"authorization": "Bearer alice-key", "x-request-id": "fixed-id-1"}
        mallory = {"authorization": "Bearer mallory-key", "x-request-id": "fixed-id-1"}
        made = c.post(url + "/v1/responses", json={"model": "m", "input": "remember 42"},
                      headers=alice).json()
        again = c.post(url + "/v1/responses", json={"model": "m", "input": "again"},
                       headers=alice).json()
        stolen = c.post(url + "/v1/responses", json={
            "model": "m", "input": "what number?", "previous_response_id": made["id"]},
            headers=mallory)
        kept = c.post(url + "/v1/responses", json={
            "model": "m", "input": "what number?", "previous_response_id": made["id"]},
            headers=alice)
    assert made["id"] != again["id"]  # the same X-Request-ID does not make the same id
    assert "fixed-id-1" not in made["id"] and len(made["id"]) > 40
    assert stolen.status_code == 400 and "unknown" in stolen.text
    assert kept.status_code == 200
    history = fake.calls[-1].body["messages"]
    assert any("remember 42" in str(m.get("content")) for m in history)


def test_trailing_slash_paths_are_served_without_a_redirect_to_the_clients_host() -> None:
    with proxy("openai", [Reply(text="ok")]) as (url, _), httpx.Client() as c:
        response = c.post(url + "/v1/messages/", json=BODY,
                          headers={**HEADERS, "host": "evil.example"})
        other = c.get(url + "/health/live/", headers={"host": "evil.example"})
    assert response.status_code == 200, response.text
    assert other.status_code == 200
    assert "evil.example" not in other.headers.get("location", "")
