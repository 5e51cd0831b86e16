"""Several model calls as one answer: one start, indexes renumbered, Lynkr's calls shown as
server blocks, the client's passed through, usage summed."""

from __future__ import annotations

from harness.events import end, text_block, tool

from lynkr.model.content import OpaqueBlock, TextBlock, ToolResultBlock, ToolUseBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    StreamError,
    TextDelta,
    Usage,
)
from lynkr.model.request import Message
from lynkr.tools.steps import AnswerEditor, add_usage

LYNKR = frozenset({"lynkr_echo"})


def test_two_steps_are_one_answer() -> None:
    editor = AnswerEditor(LYNKR)
    out = editor.feed(
        [
            MessageStart("msg_1", "m", Usage(100)),
            *text_block(0, "Look"),
            BlockStop(0),
            *tool(1, "c1", "lynkr_echo", '{"text":"hi"}'),
            *end("tool_use", Usage(100, 7, 0, 40)),
        ]
    )
    assert out == [
        MessageStart("msg_1", "m", Usage(100)),
        BlockStart(0, TextBlock("")),
        TextDelta(0, "Look"),
        BlockStop(0),
        BlockStart(
            1,
            OpaqueBlock(
                "server_tool_use",
                {
                    "type": "server_tool_use",
                    "id": "c1",
                    "name": "lynkr_echo",
                    "input": {},
                },
            ),
        ),
        InputJsonDelta(1, '{"text":"hi"}'),
        BlockStop(1),
    ]
    first = editor.end_step()
    assert first.lynkr_calls == (ToolUseBlock("c1", "lynkr_echo", {"text": "hi"}),)
    assert first.turn.content == (
        TextBlock("Look"),
        ToolUseBlock("c1", "lynkr_echo", {"text": "hi"}),
    )
    assert (first.client_calls, first.stop_reason, first.error) == (False, "tool_use", None)
    shown = editor.results([ToolResultBlock("c1", (TextBlock("echo: hi"),))])
    assert [e.index for e in shown if isinstance(e, BlockStart)] == [2]
    out = editor.feed(
        [
            MessageStart("msg_2", "m", Usage(150)),
            Ping(),
            *tool(0, "b1", "Bash", '{"command":"ls"}'),
            *end("tool_use", Usage(150, 9)),
        ]
    )
    assert out == [
        Ping(),
        BlockStart(3, ToolUseBlock("b1", "Bash", {})),
        InputJsonDelta(3, '{"command":"ls"}'),
        BlockStop(3),
    ]
    second = editor.end_step()
    assert (second.lynkr_calls, second.client_calls) == ((), True)
    assert editor.finish("tool_use") == [
        MessageDelta("tool_use", Usage(250, 16, 0, 40)),
        MessageStop(),
    ]
    assert editor.steps == 2
    assert editor.kept_by_every_client() == Message(
        "assistant", (TextBlock("Look"), ToolUseBlock("b1", "Bash", {"command": "ls"}))
    )


def test_input_that_is_not_json_is_marked_for_an_error_result() -> None:
    editor = AnswerEditor(LYNKR)
    editor.feed(
        [
            MessageStart("m", "m"),
            *tool(0, "c1", "lynkr_echo", '{"text": oops'),
            *end("tool_use", Usage()),
        ]
    )
    step = editor.end_step()
    assert step.lynkr_calls == (ToolUseBlock("c1", "lynkr_echo", {}),)
    assert step.bad_inputs == {"c1": '{"text": oops'}


def test_a_stream_error_passes_and_is_the_steps_end() -> None:
    editor = AnswerEditor(LYNKR)
    error = StreamError("overloaded_error", "Overloaded")
    out = editor.feed([MessageStart("m", "m"), *text_block(0, "par"), error])
    assert out[-1] == error
    assert editor.end_step().error == error


def test_usage_adds_field_by_field() -> None:
    assert add_usage(Usage(1, 2, 3, 4), Usage(10, 20, 30, 40)) == Usage(11, 22, 33, 44)


def test_a_read_of_deltas_passes_as_it_came_and_still_counts_in_the_turn() -> None:
    editor = AnswerEditor(LYNKR)
    editor.feed([MessageStart("msg_1", "m", Usage(1)), *text_block(0, "a")])
    deltas = [TextDelta(0, "b"), TextDelta(0, "c")]
    assert editor.feed(deltas) is deltas  # nothing to edit: the same list, no copy
    writing = [BlockStop(0), BlockStart(1, ToolUseBlock("c1", "lynkr_echo", {}))]
    assert editor.feed(writing) == [BlockStop(0)]
    # a Lynkr call being written: its input is held, the client sees nothing of it yet
    assert editor.feed([InputJsonDelta(1, '{"text":"x"}')]) == []
    shown = editor.feed([BlockStop(1), *end("tool_use", Usage(1, 2))])
    assert [type(e).__name__ for e in shown] == ["BlockStart", "InputJsonDelta", "BlockStop"]
    step = editor.end_step()
    assert step.turn.content == (TextBlock("abc"), ToolUseBlock("c1", "lynkr_echo", {"text": "x"}))


def test_a_read_of_deltas_is_renumbered_in_a_later_step() -> None:
    editor = AnswerEditor(LYNKR)
    editor.feed([MessageStart("msg_1", "m", Usage(1)), *text_block(0, "a"), BlockStop(0)])
    editor.end_step()
    editor.feed([MessageStart("msg_2", "m", Usage(1)), *text_block(0, "b")])
    deltas = [TextDelta(0, "c")]
    assert editor.feed(deltas) == [TextDelta(1, "c")]
    assert deltas == [TextDelta(0, "c")]  # the read itself is left as it was
