"""POST /v1/embeddings through the real server to fake Ollama, OpenAI and llama.cpp upstreams."""

from __future__ import annotations

import socket

import httpx
import pytest
from harness.fake_embeddings import DIMENSIONS, FakeEmbeddings, embeddings_proxy, vector_for
from harness.servers import serve_asgi, serve_lynkr

from lynkr.embeddings.formats import unpack_base64

DIALECTS = ["ollama", "openai"]


def post(url: str, body: object, **kwargs: object) -> httpx.Response:
    with httpx.Client(timeout=10) as client:
        return client.post(url + "/v1/embeddings", json=body, **kwargs)  # type: ignore[arg-type]


def assert_openai_error(response: httpx.Response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == kind
    assert response.headers["x-request-id"].startswith("req_")
    assert "Traceback" not in response.text
    return error["message"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_batch_of_strings_as_floats(dialect: str) -> None:
    with embeddings_proxy(dialect) as (url, fake):
        response = post(url, {"model": "text-embedding-3-small", "input": ["alpha", "beta"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert [d["object"] for d in body["data"]] == ["embedding", "embedding"]
    assert [d["embedding"] for d in body["data"]] == [vector_for("alpha"), vector_for("beta")]
    tokens = 6 if dialect == "ollama" else 10
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
    [call] = fake.calls
    if dialect == "ollama":
        assert call.path == "/api/embed"
        assert call.body == {"model": "nomic-embed-text", "input": ["alpha", "beta"]}
        assert body["model"] == "nomic-embed-text"
    else:
        assert call.path == "/v1/embeddings"
        assert call.body == {"model": "text-embedding-3-small", "input": ["alpha", "beta"],
                             "encoding_format": "float"}
        assert call.headers["authorization"] == "Bearer sk-upstream-secret"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_single_string_base64_and_dimensions(dialect: str) -> None:
    with embeddings_proxy(dialect) as (url, fake):
        response = post(url, {"input": "one", "encoding_format": "base64", "dimensions": 4})
    assert response.status_code == 200, response.text
    [item] = response.json()["data"]
    assert list(unpack_base64(item["embedding"])) == vector_for("one", 4)
    assert fake.calls[0].body["dimensions"] == 4
    assert fake.calls[0].body["input"] in ("one", ["one"])


def test_configured_embeddings_model_and_endpoint_override() -> None:
    fake = FakeEmbeddings()
    with serve_asgi(fake) as upstream, serve_lynkr({
            "MODEL_PROVIDER": "lmstudio", "EMBEDDINGS_PROVIDER": "ollama",
            "OLLAMA_EMBEDDINGS_ENDPOINT": upstream + "/api/embed",
            "OLLAMA_EMBEDDINGS_MODEL": "mxbai-embed-large", "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": "x"})
    assert response.status_code == 200
    assert fake.calls[0].body["model"] == "mxbai-embed-large"
    assert response.json()["model"] == "mxbai-embed-large"


def test_legacy_ollama_endpoint_one_prompt_a_call_and_dimensions_applied_here() -> None:
    fake = FakeEmbeddings()
    with serve_asgi(fake) as upstream, serve_lynkr({
            "OLLAMA_EMBEDDINGS_ENDPOINT": upstream + "/api/embeddings",
            "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": ["a", "b"], "dimensions": 3})
    assert response.status_code == 200, response.text
    assert [c.body for c in fake.calls] == [{"model": "nomic-embed-text", "prompt": "a"},
                                            {"model": "nomic-embed-text", "prompt": "b"}]
    for item, text in zip(response.json()["data"], "ab", strict=True):
        head = vector_for(text)[:3]
        norm = sum(x * x for x in head) ** 0.5
        assert item["embedding"] == pytest.approx([x / norm for x in head])


@pytest.mark.parametrize("native", [False, True])
def test_llamacpp_both_answer_shapes(native: bool) -> None:
    fake = FakeEmbeddings(native_llamacpp=native)
    with serve_asgi(fake) as upstream, serve_lynkr({
            "MODEL_PROVIDER": "llamacpp", "LLAMACPP_ENDPOINT": upstream,
            "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": ["p", "q", "r"]})
    assert response.status_code == 200, response.text
    assert fake.calls[0].path == "/embeddings"
    assert "model" not in fake.calls[0].body
    assert [d["embedding"] for d in response.json()["data"]] == \
        [vector_for(t) for t in "pqr"]


def test_token_ids_pass_through_to_openai() -> None:
    with embeddings_proxy("openai") as (url, fake):
        response = post(url, {"input": [[1, 2, 3], [4]]})
    assert response.status_code == 200, response.text
    assert fake.calls[0].body["input"] == [[1, 2, 3], [4]]
    assert len(response.json()["data"]) == 2


def test_token_ids_are_refused_for_ollama() -> None:
    with embeddings_proxy("ollama") as (url, fake):
        response = post(url, {"input": [1, 2, 3]})
    message = assert_openai_error(response, 400, "invalid_request_error")
    assert "token-id input" in message and "ollama" in message
    assert fake.calls == []


@pytest.mark.parametrize(("body", "needle"), [
    (b"{not json", "not valid JSON"),
    (b"[1]", "JSON object"),
    (b'{"model": "m"}', "'input' is required"),
    (b'{"input": []}', "empty array"),
    (b'{"input": 5}', "string or an array"),
    (b'{"input": ["a", 1]}', "a mix"),
    (b'{"input": ""}', "empty string"),
    (b'{"input": "a", "encoding_format": "int8"}', "encoding_format"),
    (b'{"input": "a", "dimensions": 0}', "dimensions"),
    (b'{"input": [[1, -2]]}', "token id"),
])
def test_bad_input_is_a_400_openai_error(body: bytes, needle: str) -> None:
    with embeddings_proxy("ollama") as (url, fake), httpx.Client() as client:
        response = client.post(url + "/v1/embeddings", content=body,
                               headers={"content-type": "application/json"})
    assert needle in assert_openai_error(response, 400, "invalid_request_error")
    assert fake.calls == []


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("status", "status_out", "kind"), [
    (429, 429, "rate_limit_error"),
    (500, 502, "server_error"),
    (503, 503, "server_error"),
    (404, 404, "not_found_error"),
    (400, 400, "invalid_request_error"),
])
def test_upstream_error_status_maps_like_chat(dialect: str, status: int, status_out: int,
                                              kind: str) -> None:
    with embeddings_proxy(dialect, FakeEmbeddings(status=status)) as (url, _):
        response = post(url, {"input": "x"})
    assert "boom" in assert_openai_error(response, status_out, kind)


def test_openrouter_error_inside_a_200_is_an_error() -> None:
    fake = FakeEmbeddings(status=200, error_body=b'{"error":{"code":402,"message":"no credits"}}')
    with serve_asgi(fake) as upstream, serve_lynkr({
            "MODEL_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "sk-or",
            "OPENROUTER_ENDPOINT": upstream + "/api/v1", "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": "x", "dimensions": 2})
    assert "no credits" in assert_openai_error(response, 400, "invalid_request_error")
    assert fake.calls[0].path == "/api/v1/embeddings"
    assert fake.calls[0].body["model"] == "openai/text-embedding-3-small"
    assert fake.calls[0].headers["x-title"] == "Lynkr"


def test_unreachable_upstream_names_provider_but_not_its_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with serve_lynkr({"OLLAMA_ENDPOINT": f"http://127.0.0.1:{port}",
                      "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": "x"})
    message = assert_openai_error(response, 502, "server_error")
    assert "ollama embeddings is not answering" in message and f"127.0.0.1:{port}" not in message


def test_not_configured_is_a_501_naming_the_variables() -> None:
    with serve_lynkr({"MODEL_PROVIDER": "lmstudio", "LOG_LEVEL": "warning"}) as url:
        response = post(url, {"input": "x"})
    message = assert_openai_error(response, 501, "not_implemented")
    assert "EMBEDDINGS_PROVIDER" in message and "OLLAMA_EMBEDDINGS_MODEL" in message


def test_get_is_a_405_in_openai_dialect() -> None:
    with embeddings_proxy("ollama") as (url, _), httpx.Client() as client:
        response = client.get(url + "/v1/embeddings")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_vectors_are_the_configured_size() -> None:
    with embeddings_proxy("openai") as (url, _):
        [item] = post(url, {"input": "z"}).json()["data"]
    assert len(item["embedding"]) == DIMENSIONS
