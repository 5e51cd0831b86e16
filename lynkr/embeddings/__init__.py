"""``POST /v1/embeddings`` providers: remote (Ollama, llama.cpp, OpenRouter, OpenAI) or local.

``formats`` is the pure wire conversion; ``providers`` and ``local`` do the I/O. The server
builds one ``Embedder`` at start-up (or none, when nothing is configured: the endpoint answers
501) and closes it on shutdown.
"""

from __future__ import annotations

import logging
from typing import Protocol

from lynkr.config.settings import Settings
from lynkr.embeddings.formats import EmbeddingRequest, Embeddings
from lynkr.embeddings.local import LocalEmbedder, available, missing_message
from lynkr.embeddings.providers import RemoteEmbedder, embeddings_client

log = logging.getLogger("lynkr.embeddings")


class Embedder(Protocol):
    name: str
    endpoint: str  # for messages: a URL, or what the local model is

    async def embed(self, request: EmbeddingRequest) -> Embeddings: ...

    async def aclose(self) -> None: ...


def build_embedder(settings: Settings) -> Embedder | None:
    config = settings.embeddings
    if config.provider is None:
        return None
    if config.provider == "local":
        if not available():
            log.warning(missing_message())
        return LocalEmbedder(config)
    return RemoteEmbedder(config, embeddings_client(settings))


__all__ = ["Embedder", "build_embedder"]
