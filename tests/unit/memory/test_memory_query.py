"""Query building: content words OR-ed, stop words out, prefixes, and no FTS5 syntax ever."""

from __future__ import annotations

import apsw
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.memory.query import match_expression, scoped_match, terms, turn_text
from lynkr.model import Message, TextBlock, ToolResultBlock


@pytest.mark.parametrize(("text", "expected"), [
    ("What language should I use for data tasks?", ("language", "data", "tasks")),
    ("I prefer Python for data processing", ("prefer", "python", "data", "processing")),
    ("Don\u2019t use tabs, don't!", ("tabs",)),  # curly and straight contractions are stop words
    ("python's GIL and Python", ("python", "gil")),  # possessive stripped, deduplicated
    ("a b 7 42 x", ("7", "42")),  # single letters out, numbers in
    ("the and or not NEAR AND OR", ("near",)),  # FTS5 operators are just words here
    ("", ()),
])
def test_terms(text: str, expected: tuple[str, ...]) -> None:
    assert terms(text) == expected


def test_a_long_turn_keeps_its_longest_words_in_their_order() -> None:
    words = [f"w{'x' * n}" for n in range(30)]
    kept = terms(" ".join(words), limit=5)
    assert kept == tuple(words[-5:])


def test_match_expression_quotes_and_prefixes() -> None:
    assert match_expression(("language", "go", "42", 'we"ird')) == (
        '"language"* OR "go" OR "42" OR "we""ird"*')
    assert match_expression(()) is None


def test_scoped_match_restricts_to_the_scope_column() -> None:
    assert scoped_match(("data",), ("wabc", "gdef")) == (
        '{scope} : ("wabc" OR "gdef") AND {text} : ("data"*)')
    assert scoped_match((), ("wabc",)) is None


def test_turn_text_leaves_out_reminders_and_tool_results() -> None:
    turn = Message("user", (
        ToolResultBlock("t1", (TextBlock("secret output"),)),
        TextBlock("<system-reminder>today is Monday</system-reminder>\nuse poetry please"),
        TextBlock("<system-reminder>never closed"),
    ))
    assert turn_text(turn).split() == ["use", "poetry", "please"]


@pytest.fixture(scope="module")
def fts() -> apsw.Connection:
    db = apsw.Connection(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, scope, "
               "tokenize='porter unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t VALUES ('I prefer Python for data processing', 'wabc')")
    return db


@given(st.text(max_size=300))
def test_no_user_text_produces_a_query_error(fts: apsw.Connection, text: str) -> None:
    match = scoped_match(terms(text), ("wabc",))
    if match is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()


@pytest.mark.parametrize("text", ['"unbalanced', "NEAR(a b", "col:x", "a*b^c", "-x +y",
                                  "AND OR NOT", "(((", "ümlaut café", "日本語のテキスト"])
def test_hostile_text_runs(fts: apsw.Connection, text: str) -> None:
    match = scoped_match(terms(text), ("wabc",))
    if match is not None:
        fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall()


def test_stemming_and_prefixes_find_paraphrases(fts: apsw.Connection) -> None:
    match = scoped_match(terms("processes for the database"), ("wabc",))
    assert fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (match,)).fetchall() == [(1,)]
    other_scope = scoped_match(terms("python"), ("wzzz",))
    assert fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (other_scope,)).fetchall() == []
