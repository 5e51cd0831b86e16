"""The model-written extraction: the request it sends and a parser that never fails."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.memory.model_extraction import extraction_request, parse_extraction
from lynkr.model.memory import Candidate


def test_the_request_carries_the_exchange_and_asks_for_json() -> None:
    request = extraction_request(" I prefer tabs ", "Noted.", "small-model")
    assert (request.model, request.temperature, request.stream) == ("small-model", 0.0, False)
    assert "JSON array" in request.system_text()
    (message,) = request.messages
    assert message.role == "user"
    assert message.content[0].text == (  # type: ignore[union-attr]
        "<user>\nI prefer tabs\n</user>\n<assistant>\nNoted.\n</assistant>")


@pytest.mark.parametrize(("answer", "expected"), [
    ('[{"type": "preference", "text": "Prefers  tabs", "importance": 0.9, "subject": "Indent"}]',
     (Candidate("preference", "Prefers tabs", 0.9, "indent"),)),
    ('Sure:\n```json\n[{"type": "fact", "text": "Uses Helm"}]\n```',
     (Candidate("fact", "Uses Helm", 0.5),)),
    ('[{"type": "opinion", "text": "x"}, {"type": "fact", "text": ""}, 3, '
     '{"type": "decision", "text": "Go with Rust", "importance": 7}]',
     (Candidate("decision", "Go with Rust", 1.0),)),
    ('[{"type": "fact", "text": "x", "importance": true}]', (Candidate("fact", "x", 0.5),)),
    ("[]", ()),
    ("nothing to remember", ()),
    ("[not json", ()),
    ('{"type": "fact"}', ()),
])
def test_parse(answer: str, expected: tuple[Candidate, ...]) -> None:
    assert parse_extraction(answer) == expected


def test_at_most_five_items() -> None:
    answer = "[" + ",".join(f'{{"type": "fact", "text": "f{n}"}}' for n in range(9)) + "]"
    assert len(parse_extraction(answer)) == 5


@given(st.text())
def test_any_answer_parses(answer: str) -> None:
    assert isinstance(parse_extraction(answer), tuple)
