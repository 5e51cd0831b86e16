"""The effective-cost model: pieces, shared prefixes, each caching rule's price."""

from __future__ import annotations

import pytest

from lynkr.bench.cost import RULES, PrefixMeter, Rule, Totals, cached_tokens, cost, pieces

BY_NAME = {r.name: r for r in RULES}


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def count(text: str) -> int:  # one token a space-separated word, for exact figures
    return len(text.split())


def chat(*messages: str, tools: str = "") -> dict[str, object]:
    body: dict[str, object] = {"messages": [{"role": "user", "content": m} for m in messages]}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": tools}}]
    return body


@pytest.mark.parametrize(
    ("rule", "shared", "cached"),
    [
        ("anthropic", 1023, 0), ("anthropic", 1500, 1500),
        ("gpt-4o", 1023, 0), ("gpt-4o", 1024, 1024), ("gpt-4o", 1300, 1280),
        ("deepseek", 63, 0), ("deepseek", 130, 128),
    ],
)
def test_cached_tokens_follow_each_providers_granularity(rule: str, shared: int,
                                                         cached: int) -> None:
    assert cached_tokens(BY_NAME[rule], shared) == cached


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("anthropic", 2000 * 0.1 + 1000 * 1.25), ("gpt-4o", 1920 * 0.5 + 1080),
     ("gpt-4.1", 1920 * 0.25 + 1080), ("gpt-5", 1920 * 0.1 + 1080),
     ("deepseek", 1984 * 0.1 + 1016)],
)
def test_cost_of_a_request(rule: str, expected: float) -> None:
    assert cost(BY_NAME[rule], 3000, 2000) == pytest.approx(expected)


def test_pieces_put_tools_first_and_a_leading_system_message_as_system() -> None:
    body = {"tools": [{"name": "t"}], "messages": [{"role": "system", "content": "s"},
                                                    {"role": "user", "content": "u"}]}
    assert [where for where, _ in pieces(body)] == ["tools", "system", "message 1"]


def test_an_appended_request_shares_everything_before() -> None:
    meter = PrefixMeter(count)
    a = pieces(chat(words(10), words(5)))
    b = pieces(chat(words(10), words(5), words(7)))
    step = meter.step(a, b)
    assert (step.total, step.first_difference) == (22, "appended")
    assert step.shared == meter.tokens(a[0][1]) + meter.tokens(a[1][1])


@pytest.mark.parametrize(
    ("before", "after", "where"),
    [
        (chat("a", tools="x"), chat("a", "b", tools="y"), "tools"),
        (chat("a b", "c"), chat("a z", "c", "d"), "message 0"),
        (chat("a", "b c"), chat("a", "b z", "d"), "message 1"),
    ],
)
def test_where_the_prefix_first_differs(before: dict[str, object], after: dict[str, object],
                                        where: str) -> None:
    step = PrefixMeter(count).step(pieces(before), pieces(after))
    assert step.first_difference == where
    assert step.shared < step.total


def test_ratios_against_a_base() -> None:
    base = Totals.of([PrefixMeter(count).step(None, pieces(chat(words(4000))))])
    half = Totals.of([PrefixMeter(count).step(None, pieces(chat(words(2000))))])
    ratios = half.ratios(base)
    assert ratios["raw"] == pytest.approx(0.5)
    assert ratios["local prefill"] == pytest.approx(0.5)
    assert set(ratios) == {"raw", *(r.name for r in RULES), "local prefill"}
    assert (base + half).requests == 2


def test_rules_are_those_the_issue_names() -> None:
    assert BY_NAME["anthropic"] == Rule("anthropic", 0.1, 1.25, 1024)
    assert [r.read for r in RULES] == [0.1, 0.5, 0.25, 0.1, 0.1]
