"""Remote embeddings providers over one pooled ``httpx.AsyncClient``: the only network I/O here.

Ollama's ``/api/embed`` (and its legacy ``/api/embeddings``, one input a call), and the OpenAI
shape spoken by OpenAI, OpenRouter and llama-server. A refused connection or a timeout is a
``LynkrError`` naming the provider and its endpoint; an error status maps as it does for chat
(both through ``providers.transport``).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from lynkr.config.embeddings import EmbeddingsSettings
from lynkr.config.settings import Settings
from lynkr.config.vendors import VENDORS
from lynkr.embeddings.formats import (
    EmbeddingRequest,
    Embeddings,
    ollama_body,
    ollama_legacy_bodies,
    openai_body,
    parse_ollama,
    parse_ollama_legacy,
    parse_openai,
)
from lynkr.model.errors import BadRequest, UpstreamError
from lynkr.providers.transport import make_client, status_error, transport_error

TAKES_TOKEN_IDS = ("openai", "openrouter")
TAKES_DIMENSIONS = ("openai", "openrouter", "ollama")


class RemoteEmbedder:
    def __init__(self, settings: EmbeddingsSettings, client: httpx.AsyncClient) -> None:
        assert settings.provider is not None
        self.name = settings.provider
        self.settings = settings
        self.endpoint = settings.endpoint
        self.client = client
        self.legacy = self.name == "ollama" and settings.endpoint.endswith("/api/embeddings")
        self.headers = _headers(settings)

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        if request.tokens and self.name not in TAKES_TOKEN_IDS:
            raise BadRequest(f"token-id input is not supported by the {self.name} embeddings "
                             f"provider; send the text instead (token ids work with openai "
                             f"and openrouter)")
        model, count = self.settings.model, len(request.inputs)
        if self.legacy:
            rows = [parse_ollama_legacy(await self._post(body), self.name)
                    for body in ollama_legacy_bodies(request, model)]
            return Embeddings(tuple(rows), model, 0)
        if self.name == "ollama":
            return parse_ollama(await self._post(ollama_body(request, model)), self.name,
                                count, model)
        body = openai_body(request, model, dimensions=self.name in TAKES_DIMENSIONS)
        return parse_openai(await self._post(body), self.name, count, model or self.name)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _post(self, body: dict[str, Any]) -> Any:
        what = f"{self.name} embeddings"
        try:
            response = await self.client.post(self.endpoint, content=orjson.dumps(body),
                                              headers=self.headers)
        except httpx.TransportError as exc:
            silence = f"{what} did not answer within {self.settings.read_timeout_s:g}s"
            raise transport_error(what, exc, silence) from None
        if response.status_code >= 400:
            raise status_error(what, response.status_code, response.content, response.headers)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamError(f"{what} answered something that is not JSON") from None


def _headers(settings: EmbeddingsSettings) -> dict[str, str]:
    """The chat transport's header rules (auth style, attribution) for the embeddings host."""
    headers = {"content-type": "application/json"}
    if settings.api_key:
        headers["authorization"] = f"Bearer {settings.api_key}"
    if settings.organization and settings.provider == "openai":
        headers["openai-organization"] = settings.organization
    if settings.provider in VENDORS:
        headers.update(VENDORS[settings.provider].headers)
    return headers


def embeddings_client(settings: Settings) -> httpx.AsyncClient:
    read = settings.embeddings.read_timeout_s
    return make_client(connect_s=settings.connect_timeout_s, read_s=read,
                       max_connections=settings.max_connections,
                       keepalive_s=settings.keepalive_expiry_s)
