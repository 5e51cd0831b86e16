"""Errors as the client's dialect expects them: status, JSON body, request id, Retry-After."""

from __future__ import annotations

from typing import Any

from lynkr.formats.anthropic.message import render_error
from lynkr.model.errors import LynkrError, Overloaded
from lynkr.stages.exchange import Dialect


def error_payload(exc: LynkrError, request_id: str, dialect: Dialect) -> tuple[int, Any]:
    if dialect == "anthropic":
        return exc.status, render_error(exc.anthropic_type, exc.message, request_id)
    status = 503 if isinstance(exc, Overloaded) else exc.status
    return status, {"error": {"message": exc.message, "type": exc.openai_type, "param": None,
                              "code": None}}


def error_headers(exc: LynkrError, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"request-id", request_id.encode()), (b"x-request-id", request_id.encode())]
    if exc.retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(exc.retry_after))).encode()))
    return headers
