"""lynkr.mcp.names: mcp_<server>_<tool>, within every provider's rule, stable and unique."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.mcp.names import sanitize, tool_names

RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("time", "time"),
        ("server-everything", "server_everything"),
        ("a.b/c d", "a_b_c_d"),
        ("__x__", "x"),
        ("日本", "x"),
        ("get-current_time", "get_current_time"),
    ],
)
def test_sanitize_follows_the_original(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_names_are_namespaced_and_clashes_get_stable_suffixes() -> None:
    names = tool_names(
        [("time", "get_current_time"), ("a-b", "c"), ("a", "b-c"), ("x" * 40, "y" * 40)]
    )
    assert names[("time", "get_current_time")] == "mcp_time_get_current_time"
    clash = {names[("a-b", "c")], names[("a", "b-c")]}
    assert len(clash) == 2 and all(n.startswith("mcp_a_b_c_") for n in clash)
    long = names[("x" * 40, "y" * 40)]
    assert len(long) == 64 and long.startswith("mcp_xxx")
    assert tool_names([("a", "b-c"), ("a-b", "c")]) == {
        k: names[k] for k in [("a", "b-c"), ("a-b", "c")]
    }


@given(st.lists(st.tuples(st.text(max_size=80), st.text(max_size=80)), max_size=30))
def test_every_name_fits_the_rule_and_no_two_tools_share_one(pairs: list[tuple[str, str]]) -> None:
    names = tool_names(pairs)
    assert all(RULE.match(n) for n in names.values())
    assert len(set(names.values())) == len(names) == len(set(pairs))
    assert tool_names(reversed(pairs)) == names  # order-free
