"""EMBEDDINGS_PROVIDER=local: a tiny model built here, loaded by path through the real server,
with the official openai SDK as the client. Nothing reaches for the network (HF_HUB_OFFLINE)."""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

st = pytest.importorskip("sentence_transformers")

import openai  # noqa: E402
from harness.servers import serve_lynkr  # noqa: E402
from harness.tiny_model import HIDDEN, build_tiny_model  # noqa: E402

pytestmark = pytest.mark.e2e
TEXTS = ["hello world", "the quick brown fox", "python function return", "hello world"]


@pytest.fixture(scope="module")
def offline() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tiny_model(offline: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def lynkr_url(tiny_model: Path) -> Iterator[str]:
    env = {"EMBEDDINGS_PROVIDER": "local", "LOCAL_EMBEDDINGS_MODEL": str(tiny_model),
           "LOCAL_EMBEDDINGS_BATCH_SIZE": "2", "LOG_LEVEL": "warning"}
    with serve_lynkr(env) as url:
        yield url


@pytest.fixture
def sdk(lynkr_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=lynkr_url + "/v1", api_key="dummy", max_retries=0) as client:
        yield client


def reference(path: Path, texts: list[str]) -> list[list[float]]:
    """What the model itself says, rounded to float32 as base64 carries it."""
    vectors = st.SentenceTransformer(str(path), device="cpu").encode(texts).tolist()
    return [list(struct.unpack(f"<{len(v)}f", struct.pack(f"<{len(v)}f", *v))) for v in vectors]


def test_default_base64_batched_matches_the_model(sdk: openai.OpenAI, tiny_model: Path) -> None:
    result = sdk.embeddings.create(model="anything", input=TEXTS)
    got = [list(d.embedding) for d in result.data]
    assert [d.index for d in result.data] == [0, 1, 2, 3]
    assert all(len(v) == HIDDEN for v in got)
    for vector, expected in zip(got, reference(tiny_model, TEXTS), strict=True):
        assert vector == pytest.approx(expected, abs=1e-5)
    assert got[0] == got[3] and got[0] != got[1]
    assert all(math.isclose(math.hypot(*v), 1.0, rel_tol=1e-5) for v in got)
    assert result.model == str(tiny_model)
    assert result.usage.prompt_tokens == 4 + 6 + 5 + 4  # [CLS] words [SEP], one token a word


def test_float_with_dimensions_is_truncated_and_renormalised(sdk: openai.OpenAI,
                                                             tiny_model: Path) -> None:
    result = sdk.embeddings.create(model="anything", input="hello world",
                                   encoding_format="float", dimensions=8)
    [item] = result.data
    head = reference(tiny_model, ["hello world"])[0][:8]
    norm = math.hypot(*head)
    assert item.embedding == pytest.approx([x / norm for x in head], abs=1e-5)


def test_token_ids_and_oversized_dimensions_are_400(lynkr_url: str) -> None:
    with httpx.Client(timeout=30) as client:
        ids = client.post(lynkr_url + "/v1/embeddings", json={"input": [[1, 2]]})
        wide = client.post(lynkr_url + "/v1/embeddings", json={"input": "a", "dimensions": 64})
    assert ids.status_code == 400 and "token-id input" in ids.json()["error"]["message"]
    assert wide.status_code == 400
    assert "embeddings have 32" in wide.json()["error"]["message"]


def test_a_model_that_cannot_load_is_a_clear_error(offline: None, tmp_path: Path) -> None:
    env = {"EMBEDDINGS_PROVIDER": "local", "LOCAL_EMBEDDINGS_MODEL": str(tmp_path / "absent"),
           "LOG_LEVEL": "error"}
    with serve_lynkr(env) as url, httpx.Client(timeout=30) as client:
        response = client.post(url + "/v1/embeddings", json={"input": "a"})
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    assert message.startswith("LOCAL_EMBEDDINGS_MODEL=") and "absent" in message
