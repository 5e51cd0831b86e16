"""The message inside an upstream's error body, and the error class a client gets for it."""

from typing import Any

import pytest

from lynkr.formats.upstream_errors import error_message, find_message
from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamTimeout,
    from_upstream_status,
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error":{"message":"Invalid model","type":"invalid_request_error"}}',
         "Invalid model"),  # OpenAI
        (b'{"error":"model \\"x\\" not found, try pulling it first"}',
         'model "x" not found, try pulling it first'),  # Ollama
        (b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
         "Overloaded"),  # Anthropic
        (b'{"error_code":"BAD_REQUEST","message":"Bad param"}', "Bad param"),  # Databricks
        (b'{"Message":"User is not authorized"}', "User is not authorized"),  # AWS
        (b'{"detail":"Not Found"}', "Not Found"),  # FastAPI-based servers
        (b'{"error":{"code":400,"error":{"message":"deep"}}}', "deep"),
        (b'{"error":"","message":"second choice"}', "second choice"),
        (b'{"unrelated":1}', '{"unrelated":1}'),
        (b'["a"]', '["a"]'),
        (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
        (b"  plain text  \n", "plain text"),
        (b"", "(empty body)"),
        (b"\xff\xfe broken", "\ufffd\ufffd broken"),
    ],
)
def test_error_message(body: bytes, message: str) -> None:
    assert error_message(body) == message


def test_error_message_is_cut_to_limit() -> None:
    assert error_message(b"x" * 1000) == "x" * 500
    assert error_message(b'{"error":"' + b"y" * 50 + b'"}', limit=10) == "y" * 10


@pytest.mark.parametrize(
    ("obj", "found"),
    [
        ("bare string", "bare string"),
        (None, None),
        (42, None),
        ({}, None),
        ({"error": {"message": ""}}, None),
        ({"error": {"code": 1}, "message": "outer"}, "outer"),
    ],
)
def test_find_message(obj: Any, found: str | None) -> None:
    assert find_message(obj) == found


@pytest.mark.parametrize(
    ("status", "kind", "client_status"),
    [
        (400, BadRequest, 400),
        (401, UpstreamAuthRejected, 502),  # the proxy's own credentials failed, not the client's
        (403, UpstreamAuthRejected, 502),
        (404, NotFound, 404),
        (408, UpstreamTimeout, 504),
        (413, PayloadTooLarge, 413),
        (422, BadRequest, 400),
        (429, RateLimited, 429),
        (500, UpstreamError, 502),
        (502, UpstreamError, 502),
        (503, Overloaded, 529),
        (504, UpstreamTimeout, 504),
        (529, Overloaded, 529),
    ],
)
def test_from_upstream_status(status: int, kind: type[LynkrError], client_status: int) -> None:
    error = from_upstream_status(status, "msg", retry_after=2.0)
    assert type(error) is kind
    assert error.status == client_status and error.message.startswith("msg")


@pytest.mark.parametrize(("status", "retry_after"), [(429, 2.0), (503, 2.0), (500, None)])
def test_retry_after_kept_where_it_means_something(status: int, retry_after: float | None) -> None:
    assert from_upstream_status(status, "m", retry_after=2.0).retry_after == retry_after


@pytest.mark.parametrize(
    ("kind", "anthropic", "openai"),
    [
        (BadRequest, "invalid_request_error", "invalid_request_error"),
        (PayloadTooLarge, "request_too_large", "invalid_request_error"),
        (Overloaded, "overloaded_error", "server_error"),
        (UpstreamTimeout, "timeout_error", "timeout"),
        (UpstreamError, "api_error", "server_error"),
    ],
)
def test_error_types_per_dialect(kind: type[LynkrError], anthropic: str, openai: str) -> None:
    assert (kind.anthropic_type, kind.openai_type) == (anthropic, openai)
