"""Output limits on the real server: a client that sets none gets the routed model's own,
learned from the provider's model list at start-up, or none at all for an unknown model."""

from __future__ import annotations

import httpx
from harness.proxy import proxy
from harness.wire import Reply

OPENROUTER_MODELS = [{"id": "fake/reasoner", "context_length": 131072,
                      "top_provider": {"max_completion_tokens": 12345}}]


def chat(url: str, **fields: object) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.post(url + "/v1/chat/completions", json={
            "model": "any", "messages": [{"role": "user", "content": "hi"}], **fields})


def test_a_published_limit_is_used_when_the_client_sets_none() -> None:
    with proxy("openrouter", [Reply(text="ok")], models=OPENROUTER_MODELS) as (url, fake):
        assert chat(url).status_code == 200
        assert chat(url, max_tokens=99_999).status_code == 200
        assert chat(url, max_tokens=100).status_code == 200
    assert [c.body.get("max_tokens") for c in fake.calls] == [12345, 12345, 100]


def test_an_unknown_model_gets_no_invented_limit() -> None:
    with proxy("openai", [Reply(text="ok")]) as (url, fake):  # fake-model: in no table
        response = chat(url)
    assert response.status_code == 200
    assert "max_tokens" not in fake.calls[0].body
    assert "max_tokens unset" not in response.headers["x-lynkr-stages"]
