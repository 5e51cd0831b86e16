"""Embeddings wire formats, pure: the OpenAI request and response, Ollama's and llama.cpp's answers.

Assumes a parsed JSON object in, plain values out; guarantees every client mistake is a
``BadRequest`` naming the field and every unusable upstream answer an ``UpstreamError`` naming
the provider; never does I/O. ``base64`` is little-endian float32, as OpenAI sends it.
"""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import Sequence
from typing import Any, Literal, TypeGuard, cast

import attrs

from lynkr.formats.jsonvalue import type_name
from lynkr.model.errors import BadRequest, UpstreamError, from_upstream_status
from lynkr.ports import estimate_tokens

Encoding = Literal["float", "base64"]
Vector = tuple[float, ...]
TokenIds = tuple[int, ...]


@attrs.frozen
class EmbeddingRequest:
    inputs: tuple[str, ...] | tuple[TokenIds, ...]
    tokens: bool = False  # inputs are token-id arrays
    model: str | None = None
    encoding: Encoding = "float"
    dimensions: int | None = None
    user: str | None = None


@attrs.frozen
class Embeddings:
    """One answer: a vector per input, in input order, and its token count if known."""

    vectors: tuple[Vector, ...]
    model: str
    prompt_tokens: int


def parse_request(body: dict[str, Any]) -> EmbeddingRequest:
    inputs, tokens = _inputs(body.get("input"))
    encoding = body.get("encoding_format")
    if encoding is None:
        encoding = "float"
    if encoding not in ("float", "base64"):
        raise BadRequest(f"'encoding_format' must be \"float\" or \"base64\", got {encoding!r}")
    return EmbeddingRequest(inputs, tokens, _optional_str(body, "model"),
                            cast(Encoding, encoding),
                            _dimensions(body.get("dimensions")), _optional_str(body, "user"))


def _inputs(value: Any) -> tuple[tuple[str, ...] | tuple[TokenIds, ...], bool]:
    if value is None:
        raise BadRequest("'input' is required: a string, an array of strings, an array of "
                         "token ids or an array of token-id arrays")
    if isinstance(value, str):
        return (_text(value, "input"),), False
    if not isinstance(value, list):
        raise BadRequest(f"'input' must be a string or an array, got {type_name(value)}")
    if not value:
        raise BadRequest("'input' must not be an empty array")
    if all(isinstance(v, str) for v in value):
        return tuple(_text(v, f"input[{i}]") for i, v in enumerate(value)), False
    if all(_is_int(v) for v in value):
        return (_token_ids(value, "input"),), True
    if all(isinstance(v, list) for v in value):
        return tuple(_token_ids(v, f"input[{i}]") for i, v in enumerate(value)), True
    raise BadRequest("'input' must be all strings, all token ids or all token-id arrays; "
                     f"got a mix ({', '.join(sorted({type_name(v) for v in value}))})")


def _text(value: str, path: str) -> str:
    if not value:
        raise BadRequest(f"'{path}' must not be an empty string")
    return value


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _token_ids(value: list[Any], path: str) -> TokenIds:
    if not value:
        raise BadRequest(f"'{path}' must not be an empty array")
    for i, v in enumerate(value):
        if not _is_int(v) or v < 0:
            raise BadRequest(f"'{path}[{i}]' must be a token id (a whole number >= 0), "
                             f"got {type_name(v) if not _is_int(v) else v}")
    return tuple(value)


def _dimensions(value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise BadRequest(f"'dimensions' must be a whole number >= 1, got {value!r}")
    return int(value)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string, got {type_name(value)}")
    return value


# ── upstream request bodies ──────────────────────────────────────────────────────────────────

def ollama_body(request: EmbeddingRequest, model: str) -> dict[str, Any]:
    """``POST /api/embed``; Ollama truncates over-long inputs to its context by default."""
    inputs = request.inputs
    body: dict[str, Any] = {"model": model,
                            "input": inputs[0] if len(inputs) == 1 else list(inputs)}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    return body


def ollama_legacy_bodies(request: EmbeddingRequest, model: str) -> list[dict[str, Any]]:
    """The legacy ``POST /api/embeddings`` takes one ``prompt`` a call."""
    return [{"model": model, "prompt": text} for text in request.inputs]


def openai_body(request: EmbeddingRequest, model: str, *, dimensions: bool) -> dict[str, Any]:
    """OpenAI's shape (OpenAI, OpenRouter, llama-server); floats always, Lynkr packs base64."""
    inputs: Any = [list(i) for i in request.inputs] if request.tokens else list(request.inputs)
    body: dict[str, Any] = {"input": inputs, "encoding_format": "float"}
    if model:
        body["model"] = model
    if dimensions and request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user is not None:
        body["user"] = request.user
    return body


# ── upstream answers ─────────────────────────────────────────────────────────────────────────

def parse_ollama(payload: Any, provider: str, count: int, model: str) -> Embeddings:
    """``{"embeddings": [[...]], "prompt_eval_count": n}`` from ``/api/embed``."""
    _raise_error_body(payload, provider)
    rows = payload.get("embeddings") if isinstance(payload, dict) else None
    vectors = _vectors(rows, provider, count)
    tokens = payload.get("prompt_eval_count")
    return Embeddings(vectors, str(payload.get("model") or model),
                      tokens if _is_int(tokens) else 0)


def parse_ollama_legacy(payload: Any, provider: str) -> Vector:
    """``{"embedding": [...]}`` from the legacy ``/api/embeddings``."""
    _raise_error_body(payload, provider)
    row = payload.get("embedding") if isinstance(payload, dict) else None
    return _vectors([row], provider, 1)[0]


def parse_openai(payload: Any, provider: str, count: int, model: str) -> Embeddings:
    """OpenAI's list shape, or llama-server's ``[{index, embedding: [[...]]}]``."""
    _raise_error_body(payload, provider)
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UpstreamError(f"{provider} answered without embeddings: {_shape(payload)}")
    ordered = sorted(items, key=lambda i: i.get("index", 0) if _is_int(i.get("index")) else 0)
    rows = [_one_row(item.get("embedding"), provider) for item in ordered]
    usage = payload.get("usage") if isinstance(payload, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    name = payload.get("model") if isinstance(payload, dict) else None
    return Embeddings(_vectors(rows, provider, count), str(name or model),
                      tokens if _is_int(tokens) else 0)


def _one_row(row: Any, provider: str) -> Any:
    """llama-server's native endpoint nests the pooled vector once: ``[[...]]``."""
    if isinstance(row, list) and len(row) == 1 and isinstance(row[0], list):
        return row[0]
    if isinstance(row, list) and row and isinstance(row[0], list):
        raise UpstreamError(f"{provider} answered one vector per token (is the server started "
                            f"with pooling, e.g. --pooling mean?)")
    return row


def _vectors(rows: Any, provider: str, count: int) -> tuple[Vector, ...]:
    if not isinstance(rows, list):
        raise UpstreamError(f"{provider} answered without embeddings")
    if len(rows) != count:
        raise UpstreamError(f"{provider} answered {len(rows)} embeddings for {count} inputs")
    vectors = []
    for row in rows:
        if not isinstance(row, list) or not row or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in row):
            raise UpstreamError(f"{provider} answered an embedding that is not a list of numbers")
        vectors.append(tuple(float(x) for x in row))
    return tuple(vectors)


def _raise_error_body(payload: Any, provider: str) -> None:
    """OpenRouter (and some servers) answer 200 with ``{"error": ...}``."""
    if not isinstance(payload, dict) or "error" not in payload:
        return
    error = payload["error"]
    message = error.get("message") if isinstance(error, dict) else error
    code = error.get("code") if isinstance(error, dict) else None
    text = f"{provider} answered an error: {message}"
    if _is_int(code) and 400 <= code <= 599:
        raise from_upstream_status(code, text)
    raise UpstreamError(text)


def _shape(payload: Any) -> str:
    if isinstance(payload, dict):
        return "an object with " + (", ".join(sorted(payload)[:8]) or "no fields")
    return type_name(payload)


# ── the client's answer ──────────────────────────────────────────────────────────────────────

def fit_dimensions(vector: Vector, dimensions: int | None) -> Vector:
    """The first ``dimensions`` values, L2-normalised again (Matryoshka-style shortening)."""
    if dimensions is None or dimensions == len(vector):
        return vector
    if dimensions > len(vector):
        raise BadRequest(f"'dimensions' is {dimensions}, but this model's embeddings have "
                         f"{len(vector)}")
    head = vector[:dimensions]
    scale = max((abs(x) for x in head), default=0.0)
    if scale == 0.0:
        return head
    # scaled first: squares of tiny values (1e-162) underflow to zero
    norm = math.sqrt(math.fsum((x / scale) ** 2 for x in head))
    return tuple(x / scale / norm for x in head)


def pack_base64(vector: Sequence[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def unpack_base64(text: str) -> tuple[float, ...]:
    raw = base64.b64decode(text)
    return struct.unpack(f"<{len(raw) // 4}f", raw)


def render_response(result: Embeddings, request: EmbeddingRequest) -> dict[str, Any]:
    data = []
    for index, vector in enumerate(result.vectors):
        fitted = fit_dimensions(vector, request.dimensions)
        embedding: Any = pack_base64(fitted) if request.encoding == "base64" else list(fitted)
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = result.prompt_tokens or input_tokens(request)
    return {"object": "list", "data": data, "model": result.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def input_tokens(request: EmbeddingRequest) -> int:
    """The count when the provider gives none: exact for token ids, estimated for text."""
    return sum(len(item) if isinstance(item, tuple) else estimate_tokens(item)
               for item in request.inputs)
