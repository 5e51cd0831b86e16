"""The official openai SDK's ``embeddings.create`` through Lynkr to the Ollama and OpenAI fakes.

The SDK asks for base64 unless told otherwise and decodes it itself, so the default case checks
our little-endian float32 packing end to end.
"""

from __future__ import annotations

import openai
import pytest
from harness.fake_embeddings import FakeEmbeddings, embeddings_proxy, vector_for

pytestmark = pytest.mark.e2e
DIALECTS = ["ollama", "openai"]


def client(url: str) -> openai.OpenAI:
    """Use as a context manager: its connection pool is closed at the end."""
    return openai.OpenAI(base_url=url + "/v1", api_key="dummy", max_retries=0)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_default_base64(dialect: str) -> None:
    with embeddings_proxy(dialect) as (url, fake), client(url) as sdk:
        result = sdk.embeddings.create(model="text-embedding-3-small",
                                       input=["first text", "second text"])
    assert fake.calls[0].body["input"] == ["first text", "second text"]
    assert [d.index for d in result.data] == [0, 1]
    assert [list(d.embedding) for d in result.data] == \
        [vector_for("first text"), vector_for("second text")]
    assert result.usage.prompt_tokens > 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_float_with_dimensions(dialect: str) -> None:
    with embeddings_proxy(dialect) as (url, fake), client(url) as sdk:
        result = sdk.embeddings.create(model="text-embedding-3-small", input="only",
                                       encoding_format="float", dimensions=5)
    [item] = result.data
    assert item.embedding == vector_for("only", 5)
    assert fake.calls[0].body["dimensions"] == 5
    assert result.object == "list"


def test_upstream_rate_limit_is_a_rate_limit_error_in_the_sdk() -> None:
    with embeddings_proxy("ollama", FakeEmbeddings(status=429)) as (url, _), \
            client(url) as sdk, pytest.raises(openai.RateLimitError) as info:
        sdk.embeddings.create(model="text-embedding-3-small", input="x")
    assert "boom" in str(info.value)


def test_bad_input_is_a_bad_request_in_the_sdk() -> None:
    with embeddings_proxy("openai") as (url, fake), client(url) as sdk, \
            pytest.raises(openai.BadRequestError) as info:
        sdk.embeddings.create(model="text-embedding-3-small", input=[])
    assert "empty array" in str(info.value)
    assert fake.calls == []
