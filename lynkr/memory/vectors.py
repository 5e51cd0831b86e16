"""Embedding similarity for memory recall: the optional half of the rank fusion.

``TextEmbedder`` is what recall needs: texts in, unit-length-or-not vectors out. ``from_embedder``
adapts the ``/v1/embeddings`` embedder (in-process sentence-transformers with the
``embeddings`` extra, or the configured remote provider). Vectors are stored as float32
(native order) and compared by cosine similarity, with numpy when it is installed (it comes with the
``embeddings`` extra) and in plain Python otherwise.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any, Protocol

from lynkr.embeddings.formats import EmbeddingRequest

_np: Any
try:
    import numpy as _np
except ImportError:  # pragma: no cover - numpy comes with the embeddings extra
    _np = None


class TextEmbedder(Protocol):
    model: str  # stored next to each vector: vectors of another model are never compared

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]: ...


class _Adapter:
    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.model = f"{embedder.name}:{getattr(embedder.settings, 'model', '')}"

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]:
        answer = await self.embedder.embed(EmbeddingRequest(tuple(texts)))
        return list(answer.vectors)


def from_embedder(embedder: Any) -> TextEmbedder:
    """Memory's view of a ``lynkr.embeddings.Embedder`` (local or remote)."""
    return _Adapter(embedder)


def pack(vector: Sequence[float]) -> bytes:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return array("f", (x / norm for x in vector)).tobytes()


class VectorIndex:
    """The packed unit vectors of one scope, searchable by cosine similarity."""

    def __init__(self, rows: Sequence[tuple[int, bytes]]) -> None:
        self.ids = [r[0] for r in rows]
        self._blobs = [r[1] for r in rows]
        self._matrix: Any = None
        if _np is not None and rows:
            joined = b"".join(self._blobs)
            self._matrix = _np.frombuffer(joined, dtype=_np.float32).reshape(len(rows), -1)

    def nearest(self, query: Sequence[float], limit: int, minimum: float = 0.0) -> list[int]:
        """Ids most similar to ``query``, best first, at least ``minimum`` similar."""
        if not self.ids:
            return []
        unit = array("f", pack(query))
        if self._matrix is not None:
            scores = self._matrix @ _np.frombuffer(unit.tobytes(), dtype=_np.float32)
            order = _np.argsort(-scores, kind="stable")[:limit]
            return [self.ids[i] for i in order.tolist() if scores[i] >= minimum]
        scored = []
        for memory_id, blob in zip(self.ids, self._blobs, strict=True):
            vector = array("f")
            vector.frombytes(blob)
            scored.append((sum(a * b for a, b in zip(unit, vector, strict=False)), memory_id))
        scored.sort(key=lambda s: -s[0])
        return [memory_id for score, memory_id in scored[:limit] if score >= minimum]
