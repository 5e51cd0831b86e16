"""unfold is the inverse of fold: a stored answer replays as the stream it came from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lynkr.formats.fold import fold, unfold
from lynkr.model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    OpaqueBlock,
    RedactedThinkingBlock,
    Response,
    SignatureDelta,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)


def test_unfold_of_text_and_tool_use() -> None:
    response = Response("msg_1", "m", (TextBlock("Hi."), ToolUseBlock("t1", "Read", {"a": 1})),
                        "tool_use", Usage(5, 7, 1, 2))
    assert unfold(response) == [
        MessageStart("msg_1", "m", Usage(5, 0, 1, 2)),
        BlockStart(0, TextBlock("")), TextDelta(0, "Hi."), BlockStop(0),
        BlockStart(1, ToolUseBlock("t1", "Read", {})), InputJsonDelta(1, '{"a":1}'),
        BlockStop(1),
        MessageDelta("tool_use", Usage(5, 7, 1, 2)), MessageStop(),
    ]


def test_unfold_of_thinking_and_opaque_blocks() -> None:
    response = Response("msg_1", "m", (ThinkingBlock("hmm", "sig"), RedactedThinkingBlock("x")),
                        "end_turn", Usage())
    assert unfold(response)[1:-2] == [
        BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "hmm"), SignatureDelta(0, "sig"),
        BlockStop(0), BlockStart(1, RedactedThinkingBlock("x")), BlockStop(1)]


def test_empty_blocks_carry_no_deltas() -> None:
    response = Response("m", "m", (TextBlock(""), ToolUseBlock("t", "X", {})), "end_turn",
                        Usage())
    assert [type(e).__name__ for e in unfold(response)] == [
        "MessageStart", "BlockStart", "BlockStop", "BlockStart", "BlockStop", "MessageDelta",
        "MessageStop"]


json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
blocks = st.one_of(
    st.builds(TextBlock, st.text(max_size=20),
              st.none() | st.just({"type": "ephemeral"})),
    st.builds(ToolUseBlock, st.text(min_size=1, max_size=6), st.text(min_size=1, max_size=6),
              st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
    st.builds(ThinkingBlock, st.text(max_size=20), st.text(max_size=6)),
    st.builds(RedactedThinkingBlock, st.text(max_size=6)),
    st.builds(OpaqueBlock, st.just("server_tool_use"),
              st.fixed_dictionaries({"id": st.text(max_size=4)})),
)
counts = st.integers(0, 10**6)
responses = st.builds(
    Response, st.text(max_size=8), st.text(max_size=8), st.lists(blocks, max_size=5).map(tuple),
    st.sampled_from([None, "end_turn", "tool_use", "max_tokens", "stop_sequence"]),
    st.builds(Usage, counts, counts, counts, counts), st.none() | st.text(max_size=4))


@given(responses)
def test_fold_of_unfold_is_identity(response: Response) -> None:
    assert fold(unfold(response)) == response


def test_a_server_tool_use_streams_its_input_and_folds_back_whole() -> None:
    use = OpaqueBlock("server_tool_use", {"type": "server_tool_use", "id": "srvtoolu_1",
                                          "name": "web_search", "input": {"query": "lynkr"}})
    response = Response("msg_1", "m", (use,), "end_turn", Usage(5, 7))
    events = unfold(response)
    assert events[1:4] == [
        BlockStart(0, OpaqueBlock("server_tool_use", {**use.raw, "input": {}})),
        InputJsonDelta(0, '{"query":"lynkr"}'), BlockStop(0)]
    assert fold(events) == response
