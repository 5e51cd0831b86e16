"""The local adapter around a stand-in sentence_transformers module: it loads the model once,
off the event loop, encodes one batch at a time, and says how to install the package."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
import types
from typing import Any

import pytest
import trio

from lynkr import embeddings
from lynkr.config.embeddings import EmbeddingsSettings
from lynkr.config.settings import load_settings
from lynkr.embeddings.formats import EmbeddingRequest, Embeddings
from lynkr.embeddings.local import LocalEmbedder
from lynkr.model.errors import BadRequest, EmbeddingsUnavailable, LynkrError

SETTINGS = EmbeddingsSettings(provider="local", model="/models/mini", batch_size=2)


class Rows(list):  # type: ignore[type-arg]
    def tolist(self) -> list[list[float]]:
        return list(self)


class FakeModel:
    loads = 0
    running = 0
    most = 0
    lock = threading.Lock()
    fail: Exception | None = None

    def __init__(self, name: str, device: str) -> None:
        if FakeModel.fail is not None:
            raise FakeModel.fail
        assert threading.current_thread() is not threading.main_thread()
        assert (name, device) == ("/models/mini", "cpu")
        FakeModel.loads += 1
        self.max_seq_length = 8

    def tokenizer(self, texts: list[str], truncation: bool, max_length: int) -> dict[str, Any]:
        return {"input_ids": [[0] * min(len(t.split()) + 2, max_length) for t in texts]}

    def encode(self, texts: list[str], batch_size: int, show_progress_bar: bool,
               convert_to_numpy: bool) -> Rows:
        assert (batch_size, show_progress_bar, convert_to_numpy) == (2, False, True)
        with FakeModel.lock:
            FakeModel.running += 1
            FakeModel.most = max(FakeModel.most, FakeModel.running)
        time.sleep(0.01)
        with FakeModel.lock:
            FakeModel.running -= 1
        return Rows([float(len(t)), 1.0] for t in texts)


@pytest.fixture
def fake_package(monkeypatch: pytest.MonkeyPatch) -> type[FakeModel]:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeModel.loads = FakeModel.running = FakeModel.most = 0
    FakeModel.fail = None
    return FakeModel


async def test_loads_once_and_encodes_one_batch_at_a_time(fake_package: type[FakeModel]) -> None:
    embedder = LocalEmbedder(SETTINGS)
    results: list[Embeddings] = []

    async def one(text: str) -> None:
        results.append(await embedder.embed(EmbeddingRequest((text, "two words"))))

    async with trio.open_nursery() as nursery:
        for text in ("a", "bb", "ccc", "dddd"):
            nursery.start_soon(one, text)
    assert (fake_package.loads, fake_package.most) == (1, 1)
    assert sorted(r.vectors[0][0] for r in results) == [1.0, 2.0, 3.0, 4.0]
    assert {r.vectors[1] for r in results} == {(9.0, 1.0)}
    assert {(r.model, r.prompt_tokens) for r in results} == {("/models/mini", 3 + 4)}
    await embedder.aclose()


async def test_token_ids_are_refused(fake_package: type[FakeModel]) -> None:
    with pytest.raises(BadRequest, match="token-id input is not supported by the local"):
        await LocalEmbedder(SETTINGS).embed(EmbeddingRequest(((1, 2),), tokens=True))
    assert fake_package.loads == 0


async def test_a_failed_load_names_the_variable_and_is_retried(
        fake_package: type[FakeModel]) -> None:
    embedder = LocalEmbedder(SETTINGS)
    fake_package.fail = OSError("no such directory")
    with pytest.raises(LynkrError) as info:
        await embedder.embed(EmbeddingRequest(("a",)))
    assert info.value.status == 500
    assert info.value.message.startswith("LOCAL_EMBEDDINGS_MODEL='/models/mini' could not be "
                                         "loaded on cpu: no such directory")
    fake_package.fail = None
    assert (await embedder.embed(EmbeddingRequest(("a",)))).vectors == ((1.0, 1.0),)


async def test_missing_package_is_a_501_with_the_install_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(EmbeddingsUnavailable) as info:
        await LocalEmbedder(SETTINGS).embed(EmbeddingRequest(("a",)))
    assert info.value.status == 501
    assert "pip install 'lynkr[embeddings]'" in info.value.message


def test_nothing_imports_torch_until_a_local_embedding_is_asked_for() -> None:
    code = ("import sys; from lynkr.config.settings import load_settings; "
            "from lynkr.server.app import build_state; "
            "build_state(load_settings(environ={'EMBEDDINGS_PROVIDER': 'local'}, "
            "env_file='/nonexistent')); "
            "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_start_up_warns_when_the_package_is_missing(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    logger = logging.getLogger("lynkr.embeddings")
    logger.addHandler(caplog.handler)
    try:
        settings = load_settings(environ={"EMBEDDINGS_PROVIDER": "local"},
                                 env_file="/nonexistent/.env")
        assert isinstance(embeddings.build_embedder(settings), LocalEmbedder)
    finally:
        logger.removeHandler(caplog.handler)
    assert "EMBEDDINGS_PROVIDER=local needs the sentence-transformers package: " \
           "pip install 'lynkr[embeddings]'" in caplog.text
