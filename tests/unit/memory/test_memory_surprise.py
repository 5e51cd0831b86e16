"""The surprise heuristic, table-driven: which statements are kept, as what, and why."""

from __future__ import annotations

import pytest

from lynkr.memory.surprise import (
    Surprise,
    candidates_for,
    extract,
    kind_of,
    score,
    sentences,
    subject_of,
)
from lynkr.model import Message, Request, TextBlock, ToolResultBlock
from lynkr.model.memory import Candidate, Memory
from lynkr.ports import estimate_tokens
from lynkr.stages.memory_injection import apply, decide


def user(text: str) -> Message:
    return Message("user", (TextBlock(text),))


@pytest.mark.parametrize(("sentence", "kind"), [
    ("I prefer Python for data processing", "preference"),
    ("Always use 4 spaces, never tabs!", "preference"),
    ("I don't like long docstrings", "preference"),
    ("We decided to deploy with Helm on the staging cluster.", "decision"),
    ("Let's go with SQLite for the prototype.", "decision"),
    ("Alice is our tech lead.", "relationship"),
    ("The billing service depends on the ledger API.", "relationship"),
    ("Payments is a service owned by the platform team.", "entity"),
    ("Our database is PostgreSQL 16.", "fact"),
    ("We deploy to Fly.io from the main branch.", "fact"),
    ("What language should I use for data tasks?", None),
    ("Fix the failing test in foo.py", None),
    ("Can you add a README?", None),
    ("ok thanks", None),
    ("hello there", None),
    ("Please refactor this function.", None),
])
def test_kind_of(sentence: str, kind: str | None) -> None:
    assert kind_of(sentence) == kind


@pytest.mark.parametrize(("sentence", "subject"), [
    ("Our database is PostgreSQL 16.", "database"),
    ("My editor is Neovim", "editor"),
    ("I prefer Python for data processing", "data processing"),
    ("Actually, we switched from MySQL to PostgreSQL for billing.", "billing"),
    ("Alice is our tech lead.", ""),
])
def test_subject_of(sentence: str, subject: str) -> None:
    assert subject_of(sentence) == subject


def test_each_factor() -> None:
    known = frozenset({"python", "data"})
    first = score("I prefer Python for data processing", "preference", known, frozenset())
    assert first == Surprise(novelty=2 / 4, contradiction=0.0, specificity=1 / 3, emphasis=0.0,
                             context_switch=1.0, prior=0.15)
    assert first.total == pytest.approx(0.3 * 0.5 + 0.2 / 3 + 0.15 + 0.15)
    switched = score("Actually, we NEVER use MySQL anymore!", "decision", frozenset(),
                     frozenset({"mysql"}))
    assert (switched.contradiction, switched.emphasis) == (1.0, 1.0)
    # words {actually, never, mysql, anymore}; the previous turn's {mysql} shares one of four
    assert switched.context_switch == pytest.approx(1 - 1 / 4)
    restated = score("Our database is CockroachDB", "fact", frozenset(), frozenset(),
                     known_subjects=frozenset({"database"}))
    assert restated.contradiction == 0.7


def test_a_passing_state_scores_low() -> None:
    assert score("The build is broken again", "fact", frozenset(), frozenset()).total < 0.3


def test_extract_keeps_statements_over_the_threshold() -> None:
    turn = user("I prefer Python for data processing. Can you write the loader? "
                "The build is broken again.")
    answer = (TextBlock("Sure. We'll use pandas for the loader from now on."),)
    found = extract(turn, answer, threshold=0.3)
    assert found == (
        Candidate("preference", "I prefer Python for data processing.", 0.667,
                  "data processing"),
        # novelty 1, contradiction ("from now on") 1, switch 1, prior 0.15
        Candidate("decision", "We'll use pandas for the loader from now on.", 0.8, "loader"),
    )


def test_known_things_are_not_surprising_twice() -> None:
    turn = user("I prefer Python for data processing.")
    history = [user("I prefer Python for data processing."),
               Message("assistant", (TextBlock("Noted."),))]
    again = extract(turn, (), history=history, known=["I prefer Python for data processing"])
    fresh = extract(turn, ())
    assert fresh
    assert again == () or again[0].importance < fresh[0].importance


def test_tool_results_and_reminders_are_not_statements() -> None:
    turn = Message("user", (
        ToolResultBlock("t1", (TextBlock("Our database is PostgreSQL 16."),)),
        TextBlock("<system-reminder>I prefer Go for everything.</system-reminder>"),
    ))
    assert extract(turn, ()) == ()


def test_the_threshold_decides() -> None:
    turn = user("Our database is PostgreSQL 16.")
    assert extract(turn, (), threshold=0.3)
    assert extract(turn, (), threshold=0.95) == ()


def test_candidates_for_a_finished_exchange_ignore_injected_memories() -> None:
    known = Memory(1, "preference", "I prefer Rust for systems work", 0.5, "u", "w", False, 0, 0)
    turn = user("Our database is PostgreSQL 16.")
    injected = apply(turn, decide(turn, [known], estimate_tokens))
    request = Request(model="m", max_tokens=10, messages=(
        user("hello there"), Message("assistant", (TextBlock("hi"),)), injected,
    ))
    found = candidates_for(request, (TextBlock("Noted."),))
    assert [c.text for c in found] == ["Our database is PostgreSQL 16."]
    assert candidates_for(Request(model="m", max_tokens=10, messages=()), ()) == ()


@pytest.mark.parametrize(("text", "split"), [
    ("My doctor is Dr. Emma Stone. I live in Lisbon!", ["My doctor is Dr. Emma Stone.",
                                                       "I live in Lisbon!"]),
    ("Use tools, e.g. ruff. Done?\nYes", ["Use tools, e.g. ruff.", "Done?", "Yes"]),
])
def test_sentences_end_at_punctuation_but_not_after_a_title(text: str, split: list[str]) -> None:
    assert sentences(text) == split
