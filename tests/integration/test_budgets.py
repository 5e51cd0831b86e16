"""Budgets in money and per session on the real server on loopback: priced from a price table
(cache reads at their rate), refused at the start with a 429 in the client's dialect naming
the budget and its reset, never cutting a stream; ``lynkr keys create --budget-usd`` and
``lynkr usage`` on the same key database; the anthropic SDK stops at once (no retries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from harness.proxy import proxy
from harness.wire import Reply

from lynkr.cli import main

# a dollar per 100 input tokens, 2 per 100 output tokens, 0.1 per 100 cached: round sums
PRICES = "providers:\n  openai:\n    '*': {input: 10000, output: 20000, cache_read: 1000}\n"
CHAT = {"model": "gpt-x", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {
    "model": "claude-x",
    "max_tokens": 50,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}
ANTHROPIC = {"anthropic-version": "2023-06-01"}


def chat_text(sse: str) -> str:
    chunks = [json.loads(line[6:]) for line in sse.splitlines() if line.startswith("data: {")]
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices")
    )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    prices = tmp_path / "prices.yaml"
    prices.write_text(PRICES)
    values = {"LYNKR_KEYS_DB_PATH": str(tmp_path / "keys.db"), "LYNKR_PRICES": str(prices)}
    monkeypatch.chdir(tmp_path)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_a_money_budget_made_by_the_cli_and_reported_by_lynkr_usage(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["keys", "create", "--name", "alice", "--budget-usd", "1.5", "--budget-window", "day"])
        == 0
    )
    key = capsys.readouterr().out.strip()
    headers = {"authorization": f"Bearer {key}"}
    # 150 prompt tokens of which 100 cached, 10 out: 50 x 0.01 + 100 x 0.001 + 10 x 0.02 = 0.8
    reply = Reply("hello " * 20, prompt_tokens=150, completion_tokens=10, cached_tokens=100)
    with proxy("openai", [reply], **env) as (url, fake), httpx.Client() as client:
        answers = [
            client.post(url + "/v1/chat/completions", json=CHAT, headers=headers) for _ in range(3)
        ]
        metrics = client.get(url + "/metrics/prometheus").text
    first, second, third = answers
    # within the budget, then over it (1.6 of 1.5): the stream that crossed it was whole
    assert first.status_code == 200 and second.status_code == 200
    assert "[DONE]" in second.text and chat_text(second.text) == "hello " * 20
    assert third.status_code == 429, third.text
    error = third.json()["error"]
    assert error["type"] == "insufficient_quota" and error["code"] == "insufficient_quota"
    assert error["message"].startswith(
        "budget of key 'alice' is spent: $1.6000 of $1.5 a day; it resets at "
    )
    assert third.headers["x-should-retry"] == "false"
    assert 0 < int(third.headers["retry-after"]) <= 86_400
    assert len(fake.calls) == 2
    assert 'lynkr_key_cost_usd_total{key="alice"} 1.6' in metrics
    assert 'lynkr_budget_refusals_total{scope="key"} 1.0' in metrics

    assert main(["usage", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [
        {
            k: r[k]
            for k in (
                "key",
                "model",
                "requests",
                "input",
                "output",
                "cache_read",
                "cache_write",
                "tokens",
                "cost_usd",
            )
        }
        for r in rows
    ] == [
        {
            "key": "alice",
            "model": "openai/fake-model",
            "requests": 2,
            "input": 100,
            "output": 20,
            "cache_read": 200,
            "cache_write": 0,
            "tokens": 320,
            "cost_usd": 1.6,
        }
    ]
    assert main(["usage"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "day",
        "key",
        "model",
        "requests",
        "input",
        "output",
        "cache_read",
        "cache_write",
        "tokens",
        "cost_usd",
    ]
    assert table[1].split()[1:] == [
        "alice",
        "openai/fake-model",
        "2",
        "100",
        "20",
        "200",
        "0",
        "320",
        "1.6000",
    ]
    assert table[2].split() == ["total", "2", "100", "20", "200", "0", "320", "1.6000"]
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["budget_usd"] == 1.5 and listed["budget_used_usd"] == pytest.approx(1.6)


def session(name: str) -> dict[str, str]:
    return {**ANTHROPIC, "x-claude-code-session-id": name}


def test_a_session_budget_holds_each_session_without_keys(env: dict[str, str]) -> None:
    env = {**env, "LYNKR_SESSION_BUDGET_TOKENS": "200"}
    reply = Reply("hello", prompt_tokens=150, completion_tokens=10)
    with proxy("openai", [reply], **env) as (url, fake), httpx.Client() as client:
        one = [
            client.post(url + "/v1/messages", json=MESSAGES, headers=session("s-1"))
            for _ in range(3)
        ]
        other = client.post(url + "/v1/messages", json=MESSAGES, headers=session("s-2"))
        # OpenAI clients name their session in x-session-id
        chat = client.post(url + "/v1/chat/completions", json=CHAT, headers={"x-session-id": "s-1"})
        unnamed = client.post(url + "/v1/messages", json=MESSAGES, headers=ANTHROPIC)
    assert [r.status_code for r in one] == [200, 200, 429]
    assert other.status_code == 200 and unnamed.status_code == 200
    body = one[2].json()
    assert body["error"]["type"] == "rate_limit_error"
    assert body["request_id"] == one[2].headers["request-id"]
    assert body["error"]["message"].startswith(
        "token budget of session 's-1' is spent: 320 of 200 tokens a day; it resets at "
    )
    assert chat.status_code == 429 and chat.json()["error"]["type"] == "insufficient_quota"
    assert len(fake.calls) == 4


def test_the_anthropic_sdk_is_told_once_and_does_not_retry(env: dict[str, str]) -> None:
    env = {**env, "LYNKR_SESSION_BUDGET_USD": "0.5", "LYNKR_SESSION_BUDGET_WINDOW": "month"}
    reply = Reply("hello", prompt_tokens=100, completion_tokens=10)  # 1.2 dollars
    with proxy("openai", [reply], **env) as (url, fake):
        client = anthropic.Anthropic(
            base_url=url,
            api_key="unused",
            max_retries=5,
            default_headers={"x-claude-code-session-id": "s-9"},
        )
        first = client.messages.create(
            model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
        with pytest.raises(anthropic.RateLimitError) as refused:
            client.messages.create(
                model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
            )
    assert first.content[0].text == "hello"  # type: ignore[union-attr]
    error: Any = refused.value.body
    assert "budget of session 's-9' is spent: $1.2000 of $0.5 a month" in error["error"]["message"]
    assert len(fake.calls) == 1  # the SDK's five retries were not spent on it
