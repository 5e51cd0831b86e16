"""Remote embeddings providers over one pooled ``httpx.AsyncClient``: the only network I/O here.

Ollama's ``/api/embed`` (and its legacy ``/api/embeddings``, one input a call), and the OpenAI
shape spoken by OpenAI, OpenRouter and llama-server. A refused connection or a timeout is a
``LynkrError`` naming the provider and its endpoint; an error status maps as it does for chat.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from lynkr.config.embeddings import EmbeddingsSettings
from lynkr.config.settings import Settings
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
from lynkr.formats.upstream_errors import error_message
from lynkr.model.errors import (
    BadRequest,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
    from_upstream_status,
)
from lynkr.providers.http import reason

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
        try:
            response = await self.client.post(self.endpoint, content=orjson.dumps(body),
                                              headers=self.headers)
        except httpx.ConnectError as exc:
            raise UpstreamUnreachable(
                f"{self.name} embeddings is not answering ({reason(exc)}); "
                f"is it running, and is its endpoint setting right?") from None
        except httpx.TimeoutException:
            raise UpstreamTimeout(
                f"{self.name} embeddings did not answer within "
                f"{self.settings.read_timeout_s:g}s") from None
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(
                f"{self.name} embeddings: {reason(exc)}") from None
        if response.status_code >= 400:
            retry = response.headers.get("retry-after")
            retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() \
                else None
            message = (f"{self.name} embeddings answered {response.status_code}: "
                       f"{error_message(response.content)}")
            raise from_upstream_status(response.status_code, message, retry_after)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamError(f"{self.name} embeddings answered something that is not "
                                f"JSON") from None


def _headers(settings: EmbeddingsSettings) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if settings.api_key:
        headers["authorization"] = f"Bearer {settings.api_key}"
    if settings.organization and settings.provider == "openai":
        headers["openai-organization"] = settings.organization
    if settings.provider == "openrouter":
        headers["http-referer"] = "https://github.com/lynkr"
        headers["x-title"] = "Lynkr"
    return headers


def make_client(settings: Settings) -> httpx.AsyncClient:
    read = settings.embeddings.read_timeout_s
    timeout = httpx.Timeout(connect=settings.connect_timeout_s, read=read, write=read,
                            pool=settings.connect_timeout_s)
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections,
                          keepalive_expiry=settings.keepalive_expiry_s)
    return httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=True)
