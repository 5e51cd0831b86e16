"""The pure embeddings conversions: request parsing, upstream bodies and answers, base64."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.embeddings.formats import (
    EmbeddingRequest,
    Embeddings,
    fit_dimensions,
    ollama_body,
    ollama_legacy_bodies,
    openai_body,
    pack_base64,
    parse_ollama,
    parse_ollama_legacy,
    parse_openai,
    parse_request,
    render_response,
    unpack_base64,
)
from lynkr.model.errors import BadRequest, RateLimited, UpstreamError


@pytest.mark.parametrize(("body", "expected"), [
    ({"input": "hi"}, EmbeddingRequest(("hi",))),
    ({"input": ["a", "b"], "model": "m", "user": "u"},
     EmbeddingRequest(("a", "b"), model="m", user="u")),
    ({"input": [1, 2, 3]}, EmbeddingRequest(((1, 2, 3),), tokens=True)),
    ({"input": [[1], [2, 3]]}, EmbeddingRequest(((1,), (2, 3)), tokens=True)),
    ({"input": "x", "encoding_format": "base64", "dimensions": 256},
     EmbeddingRequest(("x",), encoding="base64", dimensions=256)),
    ({"input": "x", "encoding_format": None, "dimensions": None, "model": None},
     EmbeddingRequest(("x",))),
])
def test_parse_request(body: dict[str, Any], expected: EmbeddingRequest) -> None:
    assert parse_request(body) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({}, "'input' is required"),
    ({"input": None}, "'input' is required"),
    ({"input": []}, "'input' must not be an empty array"),
    ({"input": ""}, "'input' must not be an empty string"),
    ({"input": ["a", ""]}, "'input[1]' must not be an empty string"),
    ({"input": {"text": "a"}}, "'input' must be a string or an array, got object"),
    ({"input": ["a", 1]}, "got a mix (number, string)"),
    ({"input": [True]}, "got a mix (boolean)"),
    ({"input": [[1], []]}, "'input[1]' must not be an empty array"),
    ({"input": [[1, "2"]]}, "'input[0][1]' must be a token id"),
    ({"input": [1.5]}, "got a mix (number)"),
    ({"input": [-1]}, "'input[0]' must be a token id (a whole number >= 0), got -1"),
    ({"input": "a", "encoding_format": "int8"}, "'encoding_format' must be"),
    ({"input": "a", "dimensions": 0}, "'dimensions' must be a whole number >= 1, got 0"),
    ({"input": "a", "dimensions": "8"}, "'dimensions' must be a whole number"),
    ({"input": "a", "dimensions": True}, "'dimensions' must be a whole number"),
    ({"input": "a", "model": 3}, "'model' must be a string, got number"),
])
def test_bad_requests_name_the_field(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_request(body)
    assert message in info.value.message


def test_upstream_bodies() -> None:
    one = EmbeddingRequest(("a",), dimensions=64, user="u")
    two = EmbeddingRequest(("a", "b"))
    ids = EmbeddingRequest(((1, 2),), tokens=True)
    assert ollama_body(one, "nomic") == {"model": "nomic", "input": "a", "dimensions": 64}
    assert ollama_body(two, "nomic") == {"model": "nomic", "input": ["a", "b"]}
    assert ollama_legacy_bodies(two, "nomic") == [{"model": "nomic", "prompt": "a"},
                                                  {"model": "nomic", "prompt": "b"}]
    assert openai_body(one, "m", dimensions=True) == {
        "input": ["a"], "encoding_format": "float", "model": "m", "dimensions": 64, "user": "u"}
    assert openai_body(one, "", dimensions=False) == {
        "input": ["a"], "encoding_format": "float", "user": "u"}
    assert openai_body(ids, "m", dimensions=True)["input"] == [[1, 2]]


def test_parse_ollama() -> None:
    payload = {"model": "nomic", "embeddings": [[0.5, 1], [2, -3.25]], "prompt_eval_count": 7}
    assert parse_ollama(payload, "ollama", 2, "x") == \
        Embeddings(((0.5, 1.0), (2.0, -3.25)), "nomic", 7)
    assert parse_ollama_legacy({"embedding": [1, 2]}, "ollama") == (1.0, 2.0)


def test_parse_openai_orders_by_index_and_reads_usage() -> None:
    payload = {"object": "list", "model": "te3",
               "data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}],
               "usage": {"prompt_tokens": 4, "total_tokens": 4}}
    assert parse_openai(payload, "openai", 2, "x") == Embeddings(((1.0,), (2.0,)), "te3", 4)


def test_parse_llamacpp_native_shape() -> None:
    payload = [{"index": 1, "embedding": [[3.0, 4.0]]}, {"index": 0, "embedding": [[1.0, 2.0]]}]
    assert parse_openai(payload, "llamacpp", 2, "llamacpp") == \
        Embeddings(((1.0, 2.0), (3.0, 4.0)), "llamacpp", 0)


@pytest.mark.parametrize(("parse", "payload", "error", "message"), [
    (parse_ollama, {"embeddings": [[1.0]]}, UpstreamError, "answered 1 embeddings for 2 inputs"),
    (parse_ollama, {"error": "model not found"}, UpstreamError, "model not found"),
    (parse_ollama, {"embeddings": [[1.0], ["x"]]}, UpstreamError, "not a list of numbers"),
    (parse_ollama, [], UpstreamError, "without embeddings"),
    (parse_openai, {"data": "nope"}, UpstreamError, "without embeddings"),
    (parse_openai, {"error": {"code": 429, "message": "slow down"}}, RateLimited, "slow down"),
    (parse_openai, [{"embedding": [[1.0], [2.0]]}, {"embedding": [[1.0], [2.0]]}],
     UpstreamError, "one vector per token"),
])
def test_unusable_answers(parse: Any, payload: Any, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        parse(payload, "prov", 2, "m")
    assert message in info.value.message
    assert info.value.message.startswith("prov ")


def test_fit_dimensions_truncates_and_renormalises() -> None:
    assert fit_dimensions((3.0, 4.0, 12.0), 2) == (0.6, 0.8)
    assert fit_dimensions((1.0, 2.0), None) == (1.0, 2.0)
    assert fit_dimensions((1.0, 2.0), 2) == (1.0, 2.0)
    assert fit_dimensions((0.0, 0.0, 1.0), 2) == (0.0, 0.0)
    with pytest.raises(BadRequest, match="this model's embeddings have 2"):
        fit_dimensions((1.0, 2.0), 3)


def test_base64_is_little_endian_float32() -> None:
    assert pack_base64([1.0, -2.5]) == base64.b64encode(
        b"\x00\x00\x80\x3f" + b"\x00\x00\x20\xc0").decode()
    assert unpack_base64(pack_base64([1.0, -2.5])) == (1.0, -2.5)


float32s = st.floats(width=32, allow_nan=False, allow_infinity=False)


@given(st.lists(float32s, min_size=1, max_size=64))
def test_base64_round_trip(values: list[float]) -> None:
    assert unpack_base64(pack_base64(values)) == tuple(values)
    assert len(base64.b64decode(pack_base64(values))) == 4 * len(values)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=32), st.integers(1, 32))
def test_fitted_vectors_are_unit_length_or_zero(values: list[float], size: int) -> None:
    if size > len(values):
        return
    fitted = fit_dimensions(tuple(values), size)
    norm = math.sqrt(sum(x * x for x in fitted))
    assert len(fitted) == size
    assert norm == 0.0 or math.isclose(norm, 1.0, rel_tol=1e-9) or size == len(values)


def test_render_response_floats_base64_and_usage() -> None:
    result = Embeddings(((3.0, 4.0), (1.0, 0.0)), "nomic", 0)
    floats = render_response(result, EmbeddingRequest(("ab", "cdefgh")))
    assert floats == {
        "object": "list", "model": "nomic",
        "data": [{"object": "embedding", "index": 0, "embedding": [3.0, 4.0]},
                 {"object": "embedding", "index": 1, "embedding": [1.0, 0.0]}],
        "usage": {"prompt_tokens": 2, "total_tokens": 2}}  # estimated: one word each
    packed = render_response(Embeddings(((3.0, 4.0),), "m", 9),
                             EmbeddingRequest(("a",), encoding="base64", dimensions=1))
    [item] = packed["data"]
    assert struct.unpack("<f", base64.b64decode(item["embedding"])) == (1.0,)
    assert packed["usage"] == {"prompt_tokens": 9, "total_tokens": 9}
    ids = render_response(Embeddings(((1.0,),), "m", 0),
                          EmbeddingRequest(((5, 6, 7),), tokens=True))
    assert ids["usage"]["prompt_tokens"] == 3
