"""Which of Lynkr's tools a request offers: kept per session, never one the client has."""

from __future__ import annotations

import pytest

from lynkr.model.request import Tool
from lynkr.tools.offer import Offered, decide_offer, decode_offer, encode_offer, same_name

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
WEB = (
    Offered("web", Tool("web_search", "Search the web.", SCHEMA)),
    Offered("web", Tool("web_fetch", "Fetch a page.", SCHEMA, extra={"strict": True})),
)
MEMORY = (Offered("memory", Tool("memory_search", "Search memories.", SCHEMA)),)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("web_search", "WebSearch", True),
        ("web-fetch", "WebFetch", True),
        ("Bash", "bash", True),
        ("web_search", "web_fetch", False),
        ("Read", "read_file", False),
    ],
)
def test_names_compare_without_case_and_separators(a: str, b: str, same: bool) -> None:
    assert (same_name(a) == same_name(b)) is same


def test_a_first_offer_is_the_boxes_set_and_is_kept() -> None:
    offer = decide_offer((Tool("Bash"),), WEB + MEMORY, None)
    assert [o.tool.name for o in offer.tools] == ["web_search", "web_fetch", "memory_search"]
    assert offer.stored is not None
    assert decode_offer(offer.stored) == WEB + MEMORY  # byte-stable round trip, extra kept


def test_a_kept_offer_wins_over_the_boxes_current_set() -> None:
    kept = encode_offer(WEB)
    offer = decide_offer((), MEMORY, kept)
    assert offer.tools == WEB
    assert offer.stored is None  # nothing new to keep


def test_a_tool_the_client_has_is_skipped_and_said() -> None:
    client = (Tool("Bash"), Tool("WebSearch"), Tool("WebFetch"))
    offer = decide_offer(client, WEB + MEMORY, None)
    assert [o.tool.name for o in offer.tools] == ["memory_search"]
    assert offer.skipped == ("web_search", "web_fetch")
    assert offer.box_of("memory_search") == "memory"
    assert offer.box_of("web_search") is None


def test_two_boxes_offering_one_name_offer_it_once() -> None:
    twice = (*WEB, Offered("mcp", Tool("Web_Search", "another")))
    assert [o.box for o in decide_offer((), twice, None).tools] == ["web", "web"]


@pytest.mark.parametrize(
    "kept",
    [
        "",
        "not json",
        "{}",
        '[{"box": "x"}]',
        '[{"box": "x", "tool": {"name": "t", "input_schema": 3}}]',
    ],
)
def test_a_kept_value_that_does_not_decode_is_decided_afresh(kept: str) -> None:
    offer = decide_offer((), MEMORY, kept)
    assert offer.tools == MEMORY
    assert offer.stored == encode_offer(MEMORY)
