"""Errors as the client's dialect expects them, and which dialect a request speaks.

Every error answer of the server (a request's failure, 404/405 from the router, a shed
request, an unknown model) goes through ``error_payload`` and ``error_headers``: status, JSON
body, request id and ``Retry-After``. ``client_dialect`` is the one rule for a request that has
no dialect yet (a path the router does not know, a shed request): the path first, then the
``anthropic-version`` header every Anthropic client sends.
"""

from __future__ import annotations

from typing import Any

from lynkr.formats.anthropic.message import render_error
from lynkr.model.errors import LynkrError, Overloaded
from lynkr.server.asgi import Scope, Send, header, send_json
from lynkr.stages.exchange import Dialect


def client_dialect(scope: Scope) -> Dialect:
    path: str = scope["path"]
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/v1/responses"):
        return "openai_responses"
    if path.startswith(("/v1/chat", "/v1/embeddings", "/v1/completions")):
        return "openai_chat"
    return "anthropic" if header(scope, b"anthropic-version") is not None else "openai_chat"


def error_payload(exc: LynkrError, request_id: str, dialect: Dialect) -> tuple[int, Any]:
    if dialect == "anthropic":
        return exc.status, render_error(exc.anthropic_type, exc.message, request_id)
    status = 503 if isinstance(exc, Overloaded) else exc.status
    return status, {"error": {"message": exc.message, "type": exc.openai_type, "param": None,
                              "code": exc.openai_code}}


def error_headers(exc: LynkrError, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"request-id", request_id.encode()), (b"x-request-id", request_id.encode())]
    if exc.retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(exc.retry_after))).encode()))
    return headers + exc.headers


async def send_error(send: Send, exc: LynkrError, request_id: str, dialect: Dialect) -> None:
    status, payload = error_payload(exc, request_id, dialect)
    await send_json(send, status, payload, error_headers(exc, request_id))
