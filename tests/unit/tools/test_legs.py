"""The legs of a tool-loop answer: shown to the client as one message, rebuilt from it (or from
the session's store) exactly as the model saw them."""

from __future__ import annotations

import orjson
from harness.events import end, text_block, tool
from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.fold import fold
from lynkr.model.content import Block, OpaqueBlock, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.events import BlockStop, Event, MessageStart, Usage
from lynkr.model.request import Message
from lynkr.tools.legs import (
    Legs,
    anchor,
    decode_legs,
    decode_places,
    encode_legs,
    encode_places,
    needs_restoring,
    rebuild,
    restore,
)
from lynkr.tools.steps import AnswerEditor

USER = Message("user", (TextBlock("do it"),))


def run_answer(steps: list[tuple[str, int, bool]]) -> tuple[Legs, Message]:
    """Each step: (its text, its number of Lynkr calls, whether it calls a client tool). The
    legs as the model saw them, and the answer as the client saw it."""
    seen: list[Event] = []
    editor = AnswerEditor(frozenset({"lynkr_echo"}))
    turns: list[Message] = []
    pending: tuple[Block, ...] = ()
    for number, (text, calls, client) in enumerate(steps):
        events = [MessageStart("msg_1", "m", Usage(5))]
        said: list[ToolUseBlock | TextBlock] = []
        index = 0
        if text:
            events += [*text_block(index, text), BlockStop(index)]
            said.append(TextBlock(text))
            index += 1
        uses = []
        for call in range(calls):
            args = {"text": f"{number}.{call}", "n": call}
            use = ToolUseBlock(f"call_{number}_{call}", "lynkr_echo", args)
            events += tool(index, use.id, use.name, orjson.dumps(args).decode())
            said.append(use)
            uses.append(use)
            index += 1
        if client:
            events += tool(index, f"client_{number}", "Bash", '{"command":"ls"}')
            said.append(ToolUseBlock(f"client_{number}", "Bash", {"command": "ls"}))
        events += end("tool_use" if calls or client else "end_turn", Usage(0, 3))
        seen.extend(editor.feed(events))
        step = editor.end_step()
        needed = bool(uses) or number > 0  # a first step without Lynkr calls is not folded
        assert step.turn == Message("assistant", tuple(said) if needed else ())
        assert step.lynkr_calls == tuple(uses)
        results = [
            ToolResultBlock(
                u.id, (TextBlock(f"echo {u.input['text']}"),), is_error=u.input["n"] == 1
            )
            for u in uses
        ]
        seen.extend(editor.results(results))
        turns.append(step.turn)
        if results and not client and number < len(steps) - 1:
            turns.append(Message("user", tuple(results)))
        elif results:
            pending = tuple(results)
    seen.extend(editor.finish("end_turn"))
    shown = Message("assistant", fold(seen).content)
    if any(calls for _, calls, _ in steps):  # legs are kept: their anchor is what a client
        assert anchor(1, editor.kept_by_every_client()) == anchor(1, shown)  # keeps
    if len(turns) > 1 and not turns[-1].content:  # an empty last turn cannot be sent again:
        pending, turns = turns[-2].content, turns[:-2]  # its results go with the next message
    return Legs(tuple(turns), pending), shown


steps_strategy = st.lists(
    st.tuples(st.sampled_from(["", "Looking.", "ok"]), st.integers(1, 3), st.just(False)),
    max_size=4,
).flatmap(
    lambda middle: st.tuples(st.sampled_from(["", "Done."]), st.integers(0, 2), st.booleans()).map(
        lambda last: [*middle, last]
    )
)


@given(steps_strategy)
def test_the_shown_answer_rebuilds_the_legs_exactly(steps: list[tuple[str, int, bool]]) -> None:
    legs, shown = run_answer(steps)
    if not any(calls for _, calls, _ in steps):
        assert rebuild(shown) is None
        return
    assert rebuild(shown) == legs


@given(steps_strategy)
def test_restore_puts_the_legs_where_the_model_saw_them(steps: list[tuple[str, int, bool]]) -> None:
    legs, shown = run_answer(steps)
    client_result = Message("user", (ToolResultBlock("client_x", (TextBlock("a.txt"),)),))
    history = (USER, shown, client_result)
    restored, count = restore(history, lambda place, message: None)
    if rebuild(shown) is None:
        assert (restored, count) == (history, 0)
        return
    assert count == 1
    expected = Message("user", legs.pending + client_result.content)
    assert restored == (USER, *legs.messages, expected)
    # idempotent: the restored history has nothing left to restore
    assert not needs_restoring(restored, frozenset())


def test_kept_legs_restore_an_answer_the_client_kept_only_the_text_of() -> None:
    legs, shown = run_answer([("Looking.", 1, False), ("Done.", 0, False)])
    kept_text = encode_legs(1, shown, legs)
    # an OpenAI-dialect client: the text of the whole answer, nothing else
    plain = Message("assistant", (TextBlock("Looking.Done."),))
    assert anchor(1, plain) == anchor(1, shown)

    def kept(place: int, message: Message) -> Legs | None:
        return decode_legs(kept_text, place, message)

    restored, count = restore((USER, plain, Message("user", (TextBlock("thanks"),))), kept)
    assert count == 1
    assert restored == (USER, *legs.messages, Message("user", (TextBlock("thanks"),)))
    # elsewhere in the history, or another answer at that place: not these legs
    assert decode_legs(kept_text, 3, plain) is None
    assert decode_legs(kept_text, 1, Message("assistant", (TextBlock("Other."),))) is None


def test_places_and_bad_values_decode_safely() -> None:
    assert decode_places(encode_places([3, 1, 3])) == frozenset({1, 3})
    assert decode_places("nonsense") == frozenset()
    assert decode_places(None) == frozenset()
    assert decode_legs("{not json", 0, USER) is None
    assert decode_legs('{"anchor": 1}', 0, USER) is None


def test_anthropics_own_server_tools_are_left_as_they_are() -> None:
    web = OpaqueBlock(
        "server_tool_use",
        {
            "type": "server_tool_use",
            "id": "srvtoolu_w",
            "name": "web_search",
            "input": {"query": "x"},
        },
    )
    found = OpaqueBlock(
        "web_search_tool_result",
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_w", "content": []},
    )
    native = Message("assistant", (TextBlock("Searching."), web, found, TextBlock("Found.")))
    assert rebuild(native) is None
    assert restore((USER, native), lambda place, message: None) == ((USER, native), 0)
    # beside a Lynkr call in one answer, only Lynkr's is turned back into the model's own
    legs, shown = run_answer([("Looking.", 1, False), ("Done.", 0, False)])
    mixed = Message("assistant", (web, found, *shown.content))
    rebuilt = rebuild(mixed)
    assert rebuilt is not None
    assert rebuilt.messages[0] == Message("assistant", (web, found, *legs.messages[0].content))
    assert rebuilt.messages[1:] == legs.messages[1:]
