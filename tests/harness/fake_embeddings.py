"""A fake embeddings server speaking Ollama's /api/embed (and legacy /api/embeddings), OpenAI's
/v1/embeddings and llama-server's native /embeddings. It records every request.

The vectors are a deterministic function of the text (``vector_for``), so a test can compute
what must come back. ``status``, when set, answers every request with that error instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import orjson

from harness.asgi import answered_show, handled_lifespan, read_request
from harness.proxy import provider_env
from harness.servers import serve_asgi, serve_lynkr

DIMENSIONS = 8


def vector_for(item: str | list[int], dimensions: int = DIMENSIONS) -> list[float]:
    """Float32-exact values (multiples of 1/64), different for every input."""
    seed = hashlib.sha256(orjson.dumps(item)).digest()
    return [(b - 128) / 64 for b in seed[:dimensions]]


@attrs.define
class Call:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@attrs.define
class FakeEmbeddings:
    status: int | None = None
    error_body: bytes = b'{"error":{"message":"boom","type":"server_error"}}'
    native_llamacpp: bool = False  # answer [{index, embedding: [[...]]}] on /embeddings
    calls: list[Call] = attrs.field(factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        raw, headers = await read_request(scope, receive)
        body = orjson.loads(raw)
        if await answered_show(scope["path"], body, send):
            return
        self.calls.append(Call(scope["path"], headers, body))
        if self.status is not None:
            await _reply(send, self.status, self.error_body)
            return
        await _reply(send, 200, orjson.dumps(self.answer(scope["path"], body)))

    def answer(self, path: str, body: dict[str, Any]) -> Any:
        if path == "/api/embeddings":
            return {"embedding": vector_for(body["prompt"])}
        raw = body["input"]
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else raw
        size = body.get("dimensions") or DIMENSIONS
        vectors = [vector_for(i, size) for i in inputs]
        if path == "/api/embed":
            return {"model": body["model"], "embeddings": vectors, "total_duration": 1000,
                    "load_duration": 10, "prompt_eval_count": 3 * len(inputs)}
        if self.native_llamacpp:
            return [{"index": i, "embedding": [v]} for i, v in reversed(list(enumerate(vectors)))]
        return {"object": "list", "model": body.get("model", "llama"),
                "data": [{"object": "embedding", "index": i, "embedding": v}
                         for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": 5 * len(inputs), "total_tokens": 5 * len(inputs)}}


async def _reply(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def embeddings_proxy(dialect: str, fake: FakeEmbeddings | None = None,
                     **env: str) -> Iterator[tuple[str, FakeEmbeddings]]:
    """Lynkr whose chat provider (so also its embeddings provider) is a fake of ``dialect``:
    ``ollama`` (/api/embed) or ``openai`` (/v1/embeddings)."""
    fake = fake or FakeEmbeddings()
    with serve_asgi(fake, name="fake-embeddings") as upstream:
        settings = {**provider_env(dialect, upstream), "LOG_LEVEL": "warning", **env}
        with serve_lynkr(settings) as url:
            yield url, fake
