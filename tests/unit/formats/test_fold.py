"""fold(): a canonical event stream → the whole Response."""

import pytest

from lynkr.formats.fold import fold, merge_usage
from lynkr.model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Overloaded,
    Ping,
    RateLimited,
    RedactedThinkingBlock,
    Response,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    UpstreamError,
    UpstreamTimeout,
    Usage,
)

START = MessageStart("msg_1", "m", Usage(input_tokens=10, cache_read_input_tokens=5))


def test_text() -> None:
    events = [
        START, BlockStart(0, TextBlock("")), Ping(), TextDelta(0, "Hel"), TextDelta(0, "lo"),
        BlockStop(0), MessageDelta("end_turn", Usage(output_tokens=2)), MessageStop(),
    ]
    assert fold(events) == Response(
        "msg_1", "m", (TextBlock("Hello"),), "end_turn",
        Usage(input_tokens=10, output_tokens=2, cache_read_input_tokens=5),
    )


def test_thinking_text_and_tool_use() -> None:
    events = [
        START,
        BlockStart(0, ThinkingBlock("")),
        ThinkingDelta(0, "Let me "), ThinkingDelta(0, "look."),
        SignatureDelta(0, "sig-a"), SignatureDelta(0, "sig-b"),
        BlockStop(0),
        BlockStart(1, TextBlock("")), TextDelta(1, "Reading."), BlockStop(1),
        BlockStart(2, ToolUseBlock("toolu_1", "Read", {})),
        InputJsonDelta(2, ""), InputJsonDelta(2, '{"path": "/a",'),
        InputJsonDelta(2, ' "n": [1, 2]}'),
        BlockStop(2),
        BlockStart(3, ToolUseBlock("toolu_2", "Noop", {})), BlockStop(3),
        BlockStart(4, RedactedThinkingBlock("cmVk")), BlockStop(4),
        MessageDelta("tool_use", Usage(input_tokens=12, output_tokens=30)),
        MessageStop(),
    ]
    assert fold(events) == Response(
        "msg_1", "m",
        (
            ThinkingBlock("Let me look.", "sig-asig-b"),
            TextBlock("Reading."),
            ToolUseBlock("toolu_1", "Read", {"path": "/a", "n": [1, 2]}),
            ToolUseBlock("toolu_2", "Noop", {}),
            RedactedThinkingBlock("cmVk"),
        ),
        "tool_use",
        Usage(input_tokens=12, output_tokens=30, cache_read_input_tokens=5),
    )


def test_interleaved_block_events_fold_by_index() -> None:
    events = [
        START,
        BlockStart(1, TextBlock("")), BlockStart(0, TextBlock("")),
        TextDelta(0, "a"), TextDelta(1, "b"), TextDelta(0, "c"),
        BlockStop(1), BlockStop(0),
        MessageDelta("stop_sequence", Usage(), stop_sequence="END"),
    ]
    result = fold(events)
    assert result.content == (TextBlock("ac"), TextBlock("b"))
    assert (result.stop_reason, result.stop_sequence) == ("stop_sequence", "END")


@pytest.mark.parametrize(("kind", "error", "status"), [
    ("api_error", UpstreamError, 502),
    ("overloaded_error", Overloaded, 529),
    ("rate_limit_error", RateLimited, 429),
    ("timeout_error", UpstreamTimeout, 504),
])
def test_stream_error_raises_the_matching_error(kind: str, error: type, status: int) -> None:
    events = [START, BlockStart(0, TextBlock("")), TextDelta(0, "x"), StreamError(kind, "bad")]
    with pytest.raises(error, match="bad") as info:
        fold(events)
    assert info.value.status == status


def test_empty_stream() -> None:
    assert fold([]) == Response("", "", (), None, Usage())


@pytest.mark.parametrize(
    ("old", "new", "merged"),
    [
        (Usage(10, 1, 2, 3), Usage(0, 7, 0, 0), Usage(10, 7, 2, 3)),
        (Usage(10, 1), Usage(12, 9, 4, 5), Usage(12, 9, 4, 5)),
        (Usage(), Usage(), Usage()),
    ],
)
def test_merge_usage_zero_means_not_reported(old: Usage, new: Usage, merged: Usage) -> None:
    assert merge_usage(old, new) == merged
