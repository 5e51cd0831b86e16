"""The official anthropic and openai SDKs with inbound keys: each header form the SDK sends,
and the SDK's own error classes for a wrong key and a rate limit."""

from __future__ import annotations

from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from harness.claude_cli import run_claude
from harness.proxy import proxy
from harness.sdk_clients import track
from harness.wire import Reply

from lynkr.auth.store import KeyStore

pytestmark = pytest.mark.e2e
MESSAGES = [{"role": "user", "content": "hi"}]


def make_key(tmp_path: Path, **limits: int) -> tuple[dict[str, str], str]:
    store = KeyStore(tmp_path / "keys.db")
    key, _ = store.create("alice", 1.0, **limits)
    store.close()
    return {"LYNKR_KEYS_DB_PATH": str(tmp_path / "keys.db")}, key


@pytest.mark.parametrize("form", ["api_key", "auth_token"])  # x-api-key, Authorization: Bearer
def test_anthropic_sdk(tmp_path: Path, form: str) -> None:
    env, key = make_key(tmp_path, rpm=1)
    with proxy("openai", [Reply("hello")], **env) as (url, _):
        sdk = track(anthropic.Anthropic(base_url=url, max_retries=0, **{form: key}))
        answer = sdk.messages.create(model="claude-x", max_tokens=20, messages=MESSAGES)
        assert answer.content[0].text == "hello"  # type: ignore[union-attr]
        with pytest.raises(anthropic.RateLimitError) as limited:
            sdk.messages.create(model="claude-x", max_tokens=20, messages=MESSAGES)
        wrong = track(anthropic.Anthropic(base_url=url, max_retries=0,
                                          **{form: key[:-2] + "zz"}))
        with pytest.raises(anthropic.AuthenticationError) as refused:
            wrong.messages.create(model="claude-x", max_tokens=20, messages=MESSAGES)
    assert limited.value.response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert int(limited.value.response.headers["retry-after"]) >= 59
    assert refused.value.request_id and refused.value.request_id.startswith("req_")


def test_openai_sdk(tmp_path: Path) -> None:
    env, key = make_key(tmp_path, rpm=1)
    with proxy("openai", [Reply("hello")], **env) as (url, _):
        sdk = track(openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0))
        answer = sdk.chat.completions.create(model="gpt-x", messages=MESSAGES)  # type: ignore[arg-type]
        assert answer.choices[0].message.content == "hello"
        with pytest.raises(openai.RateLimitError) as limited:
            sdk.chat.completions.create(model="gpt-x", messages=MESSAGES)  # type: ignore[arg-type]
        wrong = track(openai.OpenAI(base_url=url + "/v1", api_key="sk-not-ours", max_retries=0))
        with pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model="gpt-x", messages=MESSAGES)  # type: ignore[arg-type]
    assert limited.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(limited.value.response.headers["retry-after"]) >= 59


def test_claude_code_cli_with_a_key(tmp_path: Path, claude_bin: str) -> None:
    env, key = make_key(tmp_path)
    home, workspace = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    workspace.mkdir()
    with proxy("openai", [Reply("All good.")], **env) as (url, fake):
        good = run_claude(claude_bin, url, "say hi", workspace, home, api_key=key)
        served = len(fake.calls)
    assert good.returncode == 0 and good.result["is_error"] is False, good.stderr[-2000:]
    assert served >= 1
    assert key not in good.stderr and key not in str(good.events)


def test_claude_code_cli_stops_at_a_spent_budget(tmp_path: Path, claude_bin: str) -> None:
    env, key = make_key(tmp_path, budget_tokens=100)  # one answer (132 tokens) spends it
    home, workspace = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    workspace.mkdir()
    with proxy("openai", [Reply("All good.")], **env) as (url, fake):
        good = run_claude(claude_bin, url, "say hi", workspace, home, api_key=key)
        served = len(fake.calls)
        spent = run_claude(claude_bin, url, "say hi again", workspace, home, api_key=key)
        metrics = httpx.get(url + "/metrics/prometheus").text
    assert good.returncode == 0 and good.result["is_error"] is False, good.stderr[-2000:]
    assert len(fake.calls) == served  # nothing more reached the provider
    # the CLI shows the budget's message, and asked once: x-should-retry: false is honoured
    assert spent.result["is_error"] is True and spent.result["api_error_status"] == 429
    assert "token budget of key 'alice' is spent: 132 of 100 tokens a month; it resets at " \
        in spent.result["result"]
    assert 'lynkr_key_requests_total{key="alice",outcome="over_budget"} 1.0' in metrics
