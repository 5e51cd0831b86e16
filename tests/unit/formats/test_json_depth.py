"""Nesting depth of a JSON body."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.json_depth import check_depth, nesting
from lynkr.formats.jsonvalue import ParsedBody, loads_object
from lynkr.model.errors import BadRequest

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(alphabet='ab{}[]"\\\n é'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(alphabet='k{["\\'), inner, max_size=3),
    max_leaves=20)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


@given(JSON, st.integers(0, 6))
def test_refused_exactly_when_deeper_than_the_limit(value: object, limit: int) -> None:
    assert nesting(value) == depth_of(value)
    document = orjson.dumps(value)
    if depth_of(value) > limit:
        with pytest.raises(BadRequest, match=f"the limit is {limit}"):
            check_depth(document, limit)
    else:
        check_depth(document, limit)


def test_brackets_inside_strings_do_not_count() -> None:
    check_depth(b'{"a": "[[[[{{{{\\"[[", "b": [1]}', 2)


@pytest.mark.parametrize("depth", [255, 600, 1023, 2000])
def test_deep_documents_get_a_400_naming_the_limit(depth: int) -> None:
    body = b'{"model":"m","x":' + b"[" * depth + b"]" * depth + b"}"
    expected = r"nests (\d+|more than 1024) levels deep; the limit is 128 \(MAX_JSON_DEPTH\)"
    with pytest.raises(BadRequest, match=expected):
        check_depth(body, 128)


def test_many_brackets_at_a_shallow_depth_pass() -> None:
    body = orjson.dumps({"tools": [{"input_schema": {"properties": {"a": {"type": "x"}}}}] * 500})
    check_depth(body, 6)
    with pytest.raises(BadRequest, match="nests 6 levels deep"):
        check_depth(body, 5)


def test_a_body_that_does_not_parse_is_left_to_the_parser() -> None:
    check_depth(b"[" * 300, 128)  # unbalanced: the parser's own error names it


def test_a_document_parsed_for_the_check_is_parsed_once() -> None:
    body = orjson.dumps({"tools": [{"schema": {"a": [[1]]}} for _ in range(60)]})
    document = check_depth(body, 128)  # more brackets than the limit: parsed and walked
    assert document == orjson.loads(body)
    assert check_depth(b'{"a": [1]}', 128) is None  # few brackets: not parsed at all
    kept = ParsedBody.of(body, document)
    assert kept == body  # still the bytes, for everything that reads bytes
    assert loads_object(kept) is document  # the first parse takes the document
    assert loads_object(kept) == document and loads_object(kept) is not document
