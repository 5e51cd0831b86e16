"""Memory injection: into the newest typed user turn, decided once, reproduced byte for byte."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.formats.anthropic.request import render_request
from lynkr.model import Message, Request, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.memory import Memory
from lynkr.ports import estimate_tokens
from lynkr.stages.memory_injection import (
    InjectionDecision,
    apply,
    apply_decisions,
    decide,
    header_value,
    newest_turn,
    render_memories,
    turn_key,
)

EPHEMERAL = {"type": "ephemeral"}


def memory(id_: int, text: str, kind: str = "fact") -> Memory:
    return Memory(id_, kind, text, 0.5, "u", "w", False, 0.0, 0.0)  # type: ignore[arg-type]


def user(*blocks: object) -> Message:
    return Message("user", tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks))


PREF = memory(1, "I prefer Python for data processing", "preference")
CI = memory(2, "CI runs on  GitHub\nActions")


def test_render() -> None:
    assert render_memories([]) == ""
    assert render_memories([PREF, CI]).splitlines()[2:] == [
        "- (preference) I prefer Python for data processing",
        "- (fact) CI runs on GitHub Actions",
        "</lynkr-memory>",
    ]


def test_decide_counts_and_the_header() -> None:
    turn = user("what language for data tasks?")
    decision = decide(turn, [PREF, CI], estimate_tokens)
    assert (decision.turn_key, decision.count, decision.memory_ids) == (turn_key(turn), 2, (1, 2))
    assert decision.tokens == estimate_tokens(decision.block) > 0
    assert header_value(decision) == f"2 injected, {decision.tokens} tokens"
    assert header_value(None) == header_value(decide(turn, [], estimate_tokens)) == (
        "0 injected, 0 tokens")


def test_the_block_goes_after_leading_tool_results_and_carries_no_cache_mark() -> None:
    result = ToolResultBlock("t1", (TextBlock("ok"),))
    turn = user(result, TextBlock("now the tests", cache_control=EPHEMERAL))
    decision = decide(turn, [PREF], estimate_tokens)
    got = apply(turn, decision)
    assert got.content == (result, TextBlock(decision.block),
                           TextBlock("now the tests", cache_control=EPHEMERAL))
    assert apply(turn, decide(turn, [], estimate_tokens)) == turn


def test_turn_identity_ignores_cache_marks_only() -> None:
    plain = user("hello", "world")
    marked = user("hello", TextBlock("world", cache_control=EPHEMERAL))
    assert turn_key(plain) == turn_key(marked)
    assert turn_key(plain) != turn_key(user("hello", "world!"))
    assert turn_key(plain) != turn_key(user("helloworld"))


def test_newest_typed_turn_skips_tool_results_and_reminders() -> None:
    messages = [
        user("<system-reminder>ctx</system-reminder>", "fix the bug"),
        Message("assistant", (ToolUseBlock("t1", "Bash", {"command": "ls"}),)),
        user(ToolResultBlock("t1", (TextBlock("a.py"),))),
        user("<system-reminder>todo list changed</system-reminder>"),
    ]
    assert newest_turn(messages) == 0
    assert newest_turn(messages[1:]) is None


def test_recorded_decisions_are_reapplied_to_their_turns_only() -> None:
    first, second = user("first question"), user("second question")
    answer = Message("assistant", (TextBlock("answer"),))
    decisions = {turn_key(first): decide(first, [PREF], estimate_tokens)}
    got = apply_decisions([first, answer, second], decisions)
    assert got[1:] == (answer, second)
    assert got[0] == apply(first, decisions[turn_key(first)])
    assert apply_decisions([first], {}) == (first,)


# The property: a session where each request appends to the last, memories recalled anew on
# every request; the upstream request must repeat the previous one's bytes as its prefix.

turn_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                     max_size=40).filter(lambda t: t.strip() and "<system-reminder>" not in t)
recalls = st.lists(st.sampled_from([PREF, CI, memory(3, "Alice leads payments", "entity")]),
                   max_size=3, unique=True)


@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[list[Message], list[Memory]]]:
    """Each step: what the client appends, and what recall returns on that request."""
    steps = []
    for n in range(draw(st.integers(1, 6))):
        if n and draw(st.booleans()):  # a tool round inside the previous turn
            call = f"call_{n}"
            appended = [Message("assistant", (ToolUseBlock(call, "Bash", {"n": n}),)),
                        user(ToolResultBlock(call, (TextBlock(f"out {n}"),)))]
        else:
            appended = ([Message("assistant", (TextBlock(f"answer {n}"),))] if n else []) + [
                user(f"<system-reminder>{n}</system-reminder>", draw(turn_texts))]
        steps.append((appended, draw(recalls)))
    return steps


def upstream_bytes(messages: tuple[Message, ...]) -> list[bytes]:
    request = Request(model="m", max_tokens=100, system=(TextBlock("sys"),), messages=messages)
    return [orjson.dumps(m) for m in render_request(request)["messages"]]


@settings(max_examples=200, deadline=None)
@given(sessions())
def test_earlier_turns_stay_byte_identical_across_requests(
        steps: list[tuple[list[Message], list[Memory]]]) -> None:
    conversation: list[Message] = []
    decisions: dict[str, InjectionDecision] = {}  # the per-session store
    previous: list[bytes] = []
    for appended, recalled in steps:
        conversation += appended
        index = newest_turn(conversation)
        assert index is not None
        key = turn_key(conversation[index])
        if key not in decisions:
            decisions[key] = decide(conversation[index], recalled, estimate_tokens)
        sent = apply_decisions(conversation, decisions)
        assert [m.role for m in sent] == [m.role for m in conversation]
        now = upstream_bytes(sent)
        assert now[:len(previous)] == previous
        previous = now
