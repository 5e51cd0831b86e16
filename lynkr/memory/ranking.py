"""Which memories to recall, pure: rank fusion, the 30/40/30 score, updated facts, a budget.

Keyword (FTS5 bm25) and, when configured, embedding rankings are fused by reciprocal rank
fusion; the fused score, scaled to the best candidate's, is the relevance. The final score is
the original's weighting: recency 30 %, importance 40 %, relevance 30 %. Importance decays with
time since the memory was last used; recency is from when it was made, so among memories on the
same subject the newer one ranks first, and only the newest of a subject is kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from lynkr.model.memory import Memory, Recalled

RRF_K = 60
W_RECENCY, W_IMPORTANCE, W_RELEVANCE = 0.3, 0.4, 0.3
RECENCY_HALF_LIFE_DAYS = 30.0
DAY = 86_400.0


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the rankings."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, memory_id in enumerate(ranking, start=1):
            scores[memory_id] = scores.get(memory_id, 0.0) + 1.0 / (k + rank)
    return scores


def half_life(age_s: float, half_life_days: float) -> float:
    """1 now, 0.5 after one half-life, toward 0 after; never above 1 (a clock skew)."""
    return min(1.0, math.pow(0.5, max(0.0, age_s) / (half_life_days * DAY)))


def decayed_importance(memory: Memory, now: float, half_life_days: float) -> float:
    return memory.importance * half_life(now - memory.last_used_at, half_life_days)


def rank(fused: Mapping[int, float], memories: Mapping[int, Memory], now: float,
         limit: int, importance_half_life_days: float = 30.0) -> tuple[Recalled, ...]:
    """The best ``limit`` memories, best first (ties: newer first)."""
    best = max((fused[i] for i in fused if i in memories), default=0.0)
    if best <= 0 or limit <= 0:
        return ()
    scored = []
    for memory_id, raw in fused.items():
        memory = memories.get(memory_id)
        if memory is None:
            continue
        relevance = raw / best
        recency = half_life(now - memory.created_at, RECENCY_HALF_LIFE_DAYS)
        importance = decayed_importance(memory, now, importance_half_life_days)
        score = W_RECENCY * recency + W_IMPORTANCE * importance + W_RELEVANCE * relevance
        scored.append(Recalled(memory, score, relevance, recency, importance))
    scored.sort(key=lambda r: (-r.score, -r.memory.created_at, -r.memory.id))
    return _newest_per_subject(scored)[:limit]


def _newest_per_subject(scored: list[Recalled]) -> tuple[Recalled, ...]:
    newest: dict[str, float] = {}
    for r in scored:
        if r.memory.subject:
            newest[r.memory.subject] = max(newest.get(r.memory.subject, -math.inf),
                                           r.memory.created_at)
    return tuple(r for r in scored
                 if not r.memory.subject or r.memory.created_at >= newest[r.memory.subject])


def within_budget(recalled: Sequence[Recalled], render: Callable[[Sequence[Memory]], str],
                  count_tokens: Callable[[str], int], max_tokens: int) -> tuple[Recalled, ...]:
    """The memories of ``recalled``, in order, that fit ``max_tokens`` together once rendered
    (one too long is skipped, so a shorter one further down may still go in)."""
    chosen: list[Recalled] = []
    for r in recalled:
        attempt = [*chosen, r]
        if count_tokens(render([c.memory for c in attempt])) > max_tokens:
            continue
        chosen = attempt
    return tuple(chosen)
