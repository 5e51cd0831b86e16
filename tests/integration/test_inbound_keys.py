"""Inbound keys and per-key rate limits on the real server on loopback, for each dialect and
the header forms its clients use: 401s and 429s in the client's dialect, the key never sent
upstream nor logged, the key's name on the request's log line."""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.proxy import proxy
from harness.wire import Reply

from lynkr.auth.store import KeyStore
from lynkr.observability.logs import JsonFormatter

ANTHROPIC = {"anthropic-version": "2023-06-01"}
BODIES: dict[str, dict[str, Any]] = {
    "/v1/messages": {"model": "claude-x", "max_tokens": 50,
                     "messages": [{"role": "user", "content": "hi"}]},
    "/v1/chat/completions": {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/responses": {"model": "gpt-x", "input": "hi"},
}


def keys(tmp_path: Path, **limits: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A key database with alice (active, ``limits``) and bob (revoked): (env, keys)."""
    path = tmp_path / "keys.db"
    store = KeyStore(path)
    alice, _ = store.create("alice", 1.0, **limits)
    bob, _ = store.create("bob", 1.0)
    store.revoke("bob", 2.0)
    store.close()
    return {"LYNKR_KEYS_DB_PATH": str(path)}, {"alice": alice, "bob": bob}


def auth_headers(path: str, form: str, key: str) -> dict[str, str]:
    base = dict(ANTHROPIC) if path == "/v1/messages" else {}
    if form == "x-api-key":
        return {**base, "x-api-key": key}
    if form == "bearer":
        return {**base, "authorization": f"Bearer {key}"}
    return base


def assert_error(response: httpx.Response, path: str, status: int,
                 openai_type: str = "rate_limit_error") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    rid = response.headers["request-id"]
    assert rid.startswith("req_")
    if path == "/v1/messages":
        assert body["type"] == "error" and body["request_id"] == rid
        assert body["error"]["type"] == {401: "authentication_error",
                                         429: "rate_limit_error"}[status]
    else:
        assert body["error"]["type"] == {401: "invalid_request_error",
                                         429: openai_type}[status]
    return str(body["error"]["message"])


# (path, header form, whose key) -> status; Anthropic clients may use either header form,
# OpenAI clients use Authorization: Bearer (an x-api-key is not theirs: 401)
CASES = [
    ("/v1/messages", "x-api-key", "alice", 200),
    ("/v1/messages", "bearer", "alice", 200),
    ("/v1/messages", "x-api-key", "wrong", 401),
    ("/v1/messages", "bearer", "bob", 401),
    ("/v1/messages", "none", "alice", 401),
    ("/v1/chat/completions", "bearer", "alice", 200),
    ("/v1/chat/completions", "bearer", "wrong", 401),
    ("/v1/chat/completions", "bearer", "bob", 401),
    ("/v1/chat/completions", "x-api-key", "alice", 401),
    ("/v1/chat/completions", "none", "alice", 401),
    ("/v1/responses", "bearer", "alice", 200),
    ("/v1/responses", "bearer", "bob", 401),
    ("/v1/responses", "none", "alice", 401),
]


def test_each_dialect_and_header_form(tmp_path: Path) -> None:
    env, made = keys(tmp_path)
    made["wrong"] = made["alice"][:-1] + ("A" if made["alice"][-1] != "A" else "B")
    with proxy("openai", [Reply("hello")], **env) as (url, fake), httpx.Client() as client:
        for path, form, who, status in CASES:
            response = client.post(url + path, json=BODIES[path],
                                   headers=auth_headers(path, form, made[who]))
            if status == 200:
                assert response.status_code == 200, (path, form, response.text)
            else:
                message = assert_error(response, path, status)
                assert made[who] not in message
        # health and metrics ask for no key; the models list does
        assert client.get(url + "/health/live").status_code == 200
        assert client.get(url + "/v1/models").status_code == 401
        models = client.get(url + "/v1/models", headers={"authorization":
                                                         f"Bearer {made['alice']}"})
        assert models.status_code == 200
        metrics = client.get(url + "/metrics/prometheus").text
    served = sum(1 for *_, status in CASES if status == 200)
    assert len(fake.calls) == served
    for call in fake.calls:  # the upstream gets the proxy's key, never the client's
        assert all(made["alice"] not in value for value in call.headers.values())
    assert 'lynkr_key_requests_total{key="alice",outcome="admitted"}' in metrics
    assert 'lynkr_auth_failures_total{reason="missing"}' in metrics


def test_keys_are_off_without_a_key_database(tmp_path: Path) -> None:
    env = {"LYNKR_KEYS_DB_PATH": str(tmp_path / "none.db")}
    with proxy("openai", [Reply("hello")], **env) as (url, _), httpx.Client() as client:
        response = client.post(url + "/v1/chat/completions", json=BODIES["/v1/chat/completions"])
    assert response.status_code == 200
    assert not (tmp_path / "none.db").exists()  # nothing created for a sidecar


def test_lynkr_auth_keys_requires_a_key_even_with_none_made(tmp_path: Path) -> None:
    env = {"LYNKR_KEYS_DB_PATH": str(tmp_path / "keys.db"), "LYNKR_AUTH": "keys"}
    with proxy("openai", [Reply("hello")], **env) as (url, fake), httpx.Client() as client:
        response = client.post(url + "/v1/messages", json=BODIES["/v1/messages"],
                               headers={**ANTHROPIC, "x-api-key": "sk-anything"})
    assert_error(response, "/v1/messages", 401)
    assert fake.calls == []


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of the process at DEBUG, as JSON lines (with their extra fields)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("lynkr")]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def test_keys_never_appear_in_logs_at_debug_and_the_user_does(tmp_path: Path) -> None:
    env, made = keys(tmp_path)
    with captured_logs() as out, \
            proxy("openai", [Reply("hello")], LOG_LEVEL="debug", **env) as (url, _), \
            httpx.Client() as client:
        for path in BODIES:
            for who in ("alice", "bob"):
                client.post(url + path, json=BODIES[path],
                            headers=auth_headers(path, "bearer", made[who]))
        client.post(url + "/v1/messages", json=BODIES["/v1/messages"],
                    headers=auth_headers("/v1/messages", "x-api-key", made["alice"]))
    text = out.getvalue()
    assert '"user": "alice"' in text or '"user":"alice"' in text  # the request's log line
    assert "unauthorized" in text  # the refused ones were logged, without their key
    for key in made.values():
        assert key not in text and key[3:20] not in text


@pytest.mark.parametrize("path", list(BODIES))
def test_requests_per_minute_give_429_with_rate_limit_headers(tmp_path: Path,
                                                             path: str) -> None:
    env, made = keys(tmp_path, rpm=2)
    headers = auth_headers(path, "bearer", made["alice"])
    with proxy("openai", [Reply("hello")], **env) as (url, fake), httpx.Client() as client:
        started = time.monotonic()
        answers = [client.post(url + path, json=BODIES[path], headers=headers)
                   for _ in range(3)]
        late = math.ceil(time.monotonic() - started)  # a loaded machine's seconds count too
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert len(fake.calls) == 2
    ok, refused = answers[0].headers, answers[2].headers
    message = assert_error(answers[2], path, 429)
    assert "alice" in message and "2 requests per minute" in message
    assert 29 - late <= int(refused["retry-after"]) <= 30  # one request back every 30 s
    if path == "/v1/messages":
        assert ok["anthropic-ratelimit-requests-limit"] == "2"
        assert ok["anthropic-ratelimit-requests-remaining"] == "1"
        assert refused["anthropic-ratelimit-requests-remaining"] == "0"
        assert refused["anthropic-ratelimit-requests-reset"].endswith("Z")
    else:
        assert ok["x-ratelimit-limit-requests"] == "2"
        assert ok["x-ratelimit-remaining-requests"] == "1"
        assert refused["x-ratelimit-remaining-requests"] == "0"
        assert refused["x-ratelimit-reset-requests"].endswith("s")


def test_tokens_per_minute_counted_from_upstream_usage(tmp_path: Path) -> None:
    env, made = keys(tmp_path, tpm=100)
    headers = auth_headers("/v1/chat/completions", "bearer", made["alice"])
    body = {**BODIES["/v1/chat/completions"], "stream": True}
    reply = Reply("hello", prompt_tokens=150, completion_tokens=10)  # 160 > 100 a minute
    with proxy("openai", [reply], **env) as (url, fake), httpx.Client() as client:
        started = time.monotonic()
        first = client.post(url + "/v1/chat/completions", json=body, headers=headers)
        second = client.post(url + "/v1/chat/completions", json=body, headers=headers)
        late = math.ceil(time.monotonic() - started)
    # the stream that went over was served whole; the next request waits for the debt
    assert first.status_code == 200 and "[DONE]" in first.text
    message = assert_error(second, "/v1/chat/completions", 429)
    assert "100 tokens per minute" in message
    # 60 tokens at 100/60 a second
    assert 36 - late <= int(second.headers["retry-after"]) <= 37
    assert second.headers["x-ratelimit-remaining-tokens"] == "0"
    assert len(fake.calls) == 1


def test_token_budget_spent_is_a_429_naming_it_and_its_reset_across_processes(
        tmp_path: Path) -> None:
    env, made = keys(tmp_path, budget_tokens=100, budget_window="day")
    reply = Reply("hello " * 50, prompt_tokens=150, completion_tokens=10)
    stream = {**BODIES["/v1/messages"], "stream": True}
    headers = auth_headers("/v1/messages", "x-api-key", made["alice"])
    with proxy("openai", [reply], **env) as (url, fake), \
            proxy("openai", [reply], **env) as (other, _), httpx.Client() as client:
        first = client.post(url + "/v1/messages", json=stream, headers=headers)
        # a second server on the same key database sees the spent budget
        second = client.post(other + "/v1/messages", json=stream, headers=headers)
        chat = client.post(url + "/v1/chat/completions", json=BODIES["/v1/chat/completions"],
                           headers={"authorization": f"Bearer {made['alice']}"})
    # the request that went over the budget started within it and was served whole
    assert first.status_code == 200 and "message_stop" in first.text
    assert _streamed_text(first.text) == "hello " * 50
    message = assert_error(second, "/v1/messages", 429)
    assert "token budget of key 'alice'" in message and "160 of 100 tokens a day" in message
    assert "resets at" in message and "T00:00:00Z" in message
    assert 0 < int(second.headers["retry-after"]) <= 86_400
    chat_message = assert_error(chat, "/v1/chat/completions", 429, "insufficient_quota")
    assert "budget" in chat_message
    assert len(fake.calls) == 1


def _streamed_text(sse: str) -> str:
    events = [json.loads(line[6:]) for line in sse.splitlines() if line.startswith("data: ")]
    return "".join(e["delta"].get("text", "") for e in events
                   if e["type"] == "content_block_delta")


def test_an_answer_from_the_prompt_cache_is_not_charged(tmp_path: Path) -> None:
    pipeline = tmp_path / "cached.yaml"
    pipeline.write_text("name: cached\nstages:\n  - normalize\n  - route\n  - map_model\n"
                        "  - capability_filter\n  - prompt_cache\n  - egress\n")
    env, made = keys(tmp_path, budget_tokens=1000, budget_window="day")
    body = {**BODIES["/v1/messages"], "temperature": 0}
    headers = auth_headers("/v1/messages", "x-api-key", made["alice"])
    reply = Reply("Paris.", prompt_tokens=57, completion_tokens=12)
    with proxy("openai", [reply], str(pipeline), **env) as (url, fake), \
            httpx.Client() as client:
        caches = [client.post(url + "/v1/messages", json=body, headers=headers)
                  .headers["x-lynkr-cache"] for _ in range(2)]
        metrics = client.get(url + "/metrics/prometheus").text
    assert caches == ["miss", "hit"] and len(fake.calls) == 1
    assert 'lynkr_key_tokens_total{key="alice"} 69.0' in metrics
    store = KeyStore(tmp_path / "keys.db")
    assert store.ledger.spent("alice", 0.0).tokens == 69
    store.close()


def test_stored_responses_belong_to_the_key_that_made_them(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    store = KeyStore(path)
    alice, _ = store.create("alice", 1.0)
    bob, _ = store.create("bob", 1.0)
    store.close()
    env = {"LYNKR_KEYS_DB_PATH": str(path), "LYNKR_DB_PATH": str(tmp_path / "lynkr.db")}
    with proxy("openai", [Reply("hello")], **env) as (url, _), httpx.Client() as client:
        first = client.post(url + "/v1/responses", json={**BODIES["/v1/responses"],
                                                          "store": True},
                            headers={"authorization": f"Bearer {alice}"})
        follow = {**BODIES["/v1/responses"], "previous_response_id": first.json()["id"]}
        as_alice = client.post(url + "/v1/responses", json=follow,
                               headers={"authorization": f"Bearer {alice}"})
        as_bob = client.post(url + "/v1/responses", json=follow,
                             headers={"authorization": f"Bearer {bob}"})
    assert first.status_code == 200 and as_alice.status_code == 200, as_alice.text
    assert as_bob.status_code in (400, 404), as_bob.text
