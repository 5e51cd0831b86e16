"""The one error renderer and the one dialect rule, as tables; and the drawn error tree holds
every error class the package defines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lynkr
from lynkr.model import errors
from lynkr.model.errors import (
    BadRequest,
    CircuitOpen,
    LynkrError,
    MethodNotAllowed,
    NotFound,
    Overloaded,
    RateLimited,
    Shedding,
)
from lynkr.server.errors import client_dialect, error_headers, error_payload


def scope(path: str, *headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"path": path, "headers": list(headers)}


VERSION = (b"anthropic-version", b"2023-06-01")


@pytest.mark.parametrize(("path", "headers", "dialect"), [
    ("/v1/messages", (), "anthropic"),
    ("/v1/messages/count_tokens", (), "anthropic"),
    ("/v1/messages/nope", (), "anthropic"),
    ("/v1/chat/completions", (VERSION,), "openai_chat"),
    ("/v1/embeddings", (), "openai_chat"),
    ("/v1/responses", (), "openai_responses"),
    ("/v1/models", (VERSION,), "anthropic"),
    ("/v1/models", (), "openai_chat"),
    ("/v1/nowhere", (VERSION,), "anthropic"),
    ("/v1/nowhere", (), "openai_chat"),
])
def test_client_dialect(path: str, headers: tuple[tuple[bytes, bytes], ...], dialect: str
                        ) -> None:
    assert client_dialect(scope(path, *headers)) == dialect


@pytest.mark.parametrize(("error", "anthropic", "openai"), [
    (BadRequest("bad"), (400, "invalid_request_error"), (400, "invalid_request_error", None)),
    (NotFound("no"), (404, "not_found_error"), (404, "not_found_error", None)),
    (MethodNotAllowed("no"), (405, "invalid_request_error"),
     (405, "invalid_request_error", None)),
    (RateLimited("slow", retry_after=3), (429, "rate_limit_error"),
     (429, "rate_limit_error", None)),
    (Overloaded("busy"), (529, "overloaded_error"), (503, "server_error", None)),
    (CircuitOpen("open"), (503, "overloaded_error"), (503, "server_error", None)),
    (Shedding("shed", retry_after=2), (503, "overloaded_error"),
     (503, "server_error", "overloaded")),
    (LynkrError("bug"), (500, "api_error"), (500, "server_error", None)),
])
def test_one_renderer_for_both_dialects(error: LynkrError, anthropic: tuple[int, str],
                                        openai: tuple[int, str, str | None]) -> None:
    status, body = error_payload(error, "req_1", "anthropic")
    assert (status, body) == (anthropic[0], {"type": "error", "request_id": "req_1", "error": {
        "type": anthropic[1], "message": error.message}})
    status, body = error_payload(error, "req_1", "openai_chat")
    assert (status, body) == (openai[0], {"error": {"message": error.message, "type": openai[1],
                                                    "param": None, "code": openai[2]}})
    retry = [v for k, v in error_headers(error, "req_1") if k == b"retry-after"]
    assert retry == ([str(round(error.retry_after)).encode()] if error.retry_after else [])


def test_every_error_class_is_in_the_drawn_tree() -> None:
    """No client-facing error class outside model/errors.py, and each one drawn there."""
    package = Path(lynkr.__file__).parent
    outside = []
    for path in package.rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "model":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", "") in vars(errors) for b in node.bases):
                outside.append(f"{path.relative_to(package)}:{node.name}")
    drawn = errors.__doc__ or ""
    classes = [n for n, v in vars(errors).items()
               if isinstance(v, type) and issubclass(v, LynkrError)]
    assert outside == []
    assert [c for c in classes if f" {c} " not in drawn] == []
