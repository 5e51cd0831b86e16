"""Nesting depth of a JSON body, on its bytes."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.json_depth import check_depth, json_depth
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


@given(JSON)
def test_depth_matches_the_parsed_structure(value: object) -> None:
    assert json_depth(orjson.dumps(value)) == depth_of(value)


def test_brackets_inside_strings_do_not_count() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"[[", "b": [1]}') == 2


@pytest.mark.parametrize("depth", [255, 600, 1023])
def test_deep_documents_get_a_400_naming_the_limit(depth: int) -> None:
    body = b'{"model":"m","x":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(BadRequest, match=r"nests \d+ levels deep; the limit is 128 "
                                         r"\(MAX_JSON_DEPTH\)"):
        check_depth(body, 128)


def test_many_brackets_at_a_shallow_depth_pass() -> None:
    body = orjson.dumps({"tools": [{"input_schema": {"properties": {"a": {"type": "x"}}}}] * 500})
    check_depth(body, 8)
    with pytest.raises(BadRequest):
        check_depth(body, 5)
