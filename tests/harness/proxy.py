"""Lynkr in front of a fake model, both real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.fake_model import FakeModel, Script
from harness.servers import serve_asgi, serve_lynkr


def provider_env(dialect: str, upstream_url: str) -> dict[str, str]:
    if dialect == "ollama":
        return {"MODEL_PROVIDER": "ollama", "OLLAMA_ENDPOINT": upstream_url,
                "OLLAMA_MODEL": "fake-model"}
    return {"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-upstream-secret",
            "OPENAI_ENDPOINT": upstream_url + "/v1", "OPENAI_MODEL": "fake-model"}


@contextmanager
def proxy(dialect: str, script: Script, pipeline: str | None = None,
          **env: str) -> Iterator[tuple[str, FakeModel]]:
    fake = FakeModel(script)
    with serve_asgi(fake) as upstream:
        settings = {**provider_env(dialect, upstream), "LOG_LEVEL": "warning", **env}
        with serve_lynkr(settings, pipeline) as url:
            yield url, fake
