"""Ranking: reciprocal rank fusion, the 30/40/30 score, the newest of a subject, the budget."""

from __future__ import annotations

import pytest

from lynkr.memory.ranking import DAY, decayed_importance, fuse, half_life, rank, within_budget
from lynkr.model.memory import Memory
from lynkr.ports import estimate_tokens
from lynkr.stages.memory_injection import render_memories

NOW = 1_000 * DAY


def memory(id_: int, *, age_days: float = 0, importance: float = 0.5, subject: str = "",
           used_days_ago: float | None = None, text: str = "") -> Memory:
    created = NOW - age_days * DAY
    used = NOW - (age_days if used_days_ago is None else used_days_ago) * DAY
    return Memory(id_, "fact", text or f"memory {id_}", importance, "u", "w", False, created,
                  used, subject=subject)


def test_fuse_sums_reciprocal_ranks() -> None:
    assert fuse([[1, 2], [2, 3]], k=60) == pytest.approx(
        {1: 1 / 61, 2: 1 / 62 + 1 / 61, 3: 1 / 62})
    assert fuse([]) == {}


@pytest.mark.parametrize(("age_days", "expected"), [(0, 1.0), (30, 0.5), (60, 0.25), (-5, 1.0)])
def test_half_life(age_days: float, expected: float) -> None:
    assert half_life(age_days * DAY, 30) == pytest.approx(expected)


def test_importance_decays_with_time_since_last_use() -> None:
    fresh = memory(1, age_days=100, used_days_ago=0, importance=0.8)
    stale = memory(2, age_days=100, used_days_ago=30, importance=0.8)
    assert decayed_importance(fresh, NOW, 30) == pytest.approx(0.8)
    assert decayed_importance(stale, NOW, 30) == pytest.approx(0.4)


def test_score_is_recency_30_importance_40_relevance_30() -> None:
    only = memory(1, age_days=30, importance=0.5, used_days_ago=0)
    (recalled,) = rank({1: 0.02}, {1: only}, NOW, limit=5)
    assert (recalled.recency, recalled.importance, recalled.relevance) == pytest.approx(
        (0.5, 0.5, 1.0))
    assert recalled.score == pytest.approx(0.3 * 0.5 + 0.4 * 0.5 + 0.3 * 1.0)


def test_relevance_is_relative_to_the_best_and_order_follows_the_score() -> None:
    memories = {1: memory(1, importance=0.2), 2: memory(2, importance=0.9),
                3: memory(3, importance=0.2)}
    ranked = rank({1: 0.03, 2: 0.015, 3: 0.01}, memories, NOW, limit=2)
    assert [r.memory.id for r in ranked] == [2, 1]
    assert ranked[0].relevance == pytest.approx(0.5)


def test_the_newer_memory_on_a_subject_wins_and_the_older_is_dropped() -> None:
    old = memory(1, age_days=40, importance=0.9, subject="billing-db")
    new = memory(2, age_days=1, importance=0.3, subject="billing-db")
    other = memory(3, age_days=40, importance=0.9)
    ranked = rank({1: 0.03, 2: 0.01, 3: 0.02}, {1: old, 2: new, 3: other}, NOW, limit=5)
    assert [r.memory.id for r in ranked] == [2, 3]  # 0.51 and 0.46; the old one (0.56) goes


def test_unknown_ids_and_empty_input_rank_nothing() -> None:
    assert rank({9: 0.1}, {}, NOW, limit=5) == ()
    assert rank({1: 0.1}, {1: memory(1)}, NOW, limit=0) == ()


def test_budget_skips_what_does_not_fit() -> None:
    memories = {1: memory(1, text="short one"), 2: memory(2, text="long " * 400),
                3: memory(3, text="another short one")}
    ranked = rank({1: 0.03, 2: 0.02, 3: 0.01}, memories, NOW, limit=5)
    chosen = within_budget(ranked, render_memories, estimate_tokens, max_tokens=100)
    assert [r.memory.id for r in chosen] == [1, 3]
    assert estimate_tokens(render_memories([r.memory for r in chosen])) <= 100
