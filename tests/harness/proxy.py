"""Lynkr in front of a fake model, both real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.fake_anthropic import AnthropicGuard
from harness.fake_bedrock import FakeBedrock
from harness.fake_model import FakeModel, Guard, Script
from harness.servers import serve_asgi, serve_lynkr

UPSTREAM_KEY = "sk-ant-upstream-secret"


def provider_env(dialect: str, upstream_url: str) -> dict[str, str]:
    if dialect.startswith("bedrock"):  # boto3 signs with the dummy keys; the fake checks it
        return {"MODEL_PROVIDER": "bedrock", "AWS_BEDROCK_ENDPOINT": upstream_url,
                "AWS_BEDROCK_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKIDLYNKRTEST",
                "AWS_SECRET_ACCESS_KEY": "lynkr-test-secret",
                "AWS_BEDROCK_MODEL_ID": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "AWS_BEDROCK_CLAUDE_API": "converse" if dialect == "bedrock-converse"
                else "invoke"}
    if dialect == "anthropic":
        return {"MODEL_PROVIDER": "anthropic", "ANTHROPIC_UPSTREAM_API_KEY": UPSTREAM_KEY,
                "ANTHROPIC_UPSTREAM_ENDPOINT": upstream_url + "/v1/messages"}
    if dialect == "openrouter":
        return {"MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "sk-or-upstream-secret",
                "OPENROUTER_ENDPOINT": upstream_url + "/api/v1/chat/completions",
                "OPENROUTER_MODEL": "fake/reasoner"}
    if dialect == "ollama":
        return {"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": upstream_url,
                "OLLAMA_MODEL": "fake-model"}
    if dialect == "llamacpp":
        return {"MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": upstream_url,
                "LLAMACPP_MODEL": "fake-model"}
    return {"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-upstream-secret",
            "OPENAI_ENDPOINT": upstream_url + "/v1", "OPENAI_MODEL": "fake-model"}


@contextmanager
def proxy(dialect: str, script: Script, pipeline: str | None = None, guard: Guard | None = None,
          models: list[dict[str, Any]] | None = None, **env: str
          ) -> Iterator[tuple[str, FakeModel]]:
    if guard is None and dialect == "anthropic":
        guard = AnthropicGuard(UPSTREAM_KEY)
    fake: Any = FakeBedrock(script) if dialect.startswith("bedrock") \
        else FakeModel(script, guard, models)
    with serve_asgi(fake) as upstream:
        # no retries unless a test asks: most tests check how one upstream answer is relayed
        settings = {**provider_env(dialect, upstream), "LOG_LEVEL": "warning",
                    "API_RETRY_MAX_RETRIES": "0", **env}
        with serve_lynkr(settings, pipeline) as url:
            yield url, fake
