"""In-process embeddings with sentence-transformers: the only module that imports it.

The package is optional (``pip install 'lynkr[embeddings]'``) and imported on first use, in a
worker thread, with the model: neither ever blocks the event loop, and a core install never
pulls torch. One ``CapacityLimiter(1)`` serialises encoding, so the model loads exactly once
and one batch at a time uses the cores. Never downloads anything the user did not name.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import trio

from lynkr.config.embeddings import EmbeddingsSettings
from lynkr.embeddings.formats import EmbeddingRequest, Embeddings
from lynkr.model.errors import BadRequest, EmbeddingsUnavailable, LynkrError
from lynkr.ports import estimate_tokens

log = logging.getLogger("lynkr.embeddings")
INSTALL_HINT = "pip install 'lynkr[embeddings]'"


def available() -> bool:
    """Whether sentence-transformers is installed (found, not imported)."""
    return importlib.util.find_spec("sentence_transformers") is not None


def missing_message() -> str:
    return (f"EMBEDDINGS_PROVIDER=local needs the sentence-transformers package: "
            f"{INSTALL_HINT}")


class LocalEmbedder:
    def __init__(self, settings: EmbeddingsSettings) -> None:
        self.name = "local"
        self.settings = settings
        self.endpoint = f"in-process model {settings.model!r} on {settings.device}"
        self._limiter = trio.CapacityLimiter(1)
        self._model: Any = None

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        if request.tokens:
            raise BadRequest("token-id input is not supported by the local embeddings "
                             "provider; send the text instead")
        texts: list[str] = list(request.inputs)  # type: ignore[arg-type]
        rows, tokens = await trio.to_thread.run_sync(self._encode, texts,
                                                     limiter=self._limiter)
        return Embeddings(tuple(tuple(row) for row in rows), self.settings.model, tokens)

    async def aclose(self) -> None:
        self._model = None

    def _encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """In the worker thread: load once, count tokens, encode in batches."""
        model = self._model if self._model is not None else self._load()
        vectors = model.encode(texts, batch_size=self.settings.batch_size,
                               show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist(), _count_tokens(model, texts)

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingsUnavailable(f"{missing_message()} ({exc})") from None
        name = self.settings.model
        log.info("loading local embeddings model",
                 extra={"model": name, "device": self.settings.device})
        try:
            self._model = SentenceTransformer(name, device=self.settings.device)
        except (OSError, ValueError, RuntimeError) as exc:
            raise LynkrError(
                f"LOCAL_EMBEDDINGS_MODEL={name!r} could not be loaded on "
                f"{self.settings.device}: {str(exc).strip().rstrip('.')}. Point it at a "
                f"sentence-transformers model directory, or a model name already in the "
                f"Hugging Face cache") from None
        return self._model


def _count_tokens(model: Any, texts: list[str]) -> int:
    tokenizer = getattr(model, "tokenizer", None)
    if not callable(tokenizer):
        return sum(estimate_tokens(t) for t in texts)
    limit = getattr(model, "max_seq_length", None)
    encoded = tokenizer(texts, truncation=limit is not None, max_length=limit)
    return sum(len(ids) for ids in encoded["input_ids"])
