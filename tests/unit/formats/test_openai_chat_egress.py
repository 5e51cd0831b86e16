"""ChatChunkRenderer and render_completion: canonical events in, the exact client bytes out."""

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from lynkr.formats.fold import fold
from lynkr.formats.openai_chat.egress import (
    ChatChunkRenderer,
    finish_reason,
    render_completion,
    usage_json,
)
from lynkr.formats.openai_chat.ingress import ChatClientOptions
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    OpaqueBlock,
    Ping,
    RedactedThinkingBlock,
    Response,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)

START = MessageStart("msg_1", "claude-x", Usage(input_tokens=20, cache_read_input_tokens=100))
USAGE = ChatClientOptions(include_usage=True)
NO_USAGE = ChatClientOptions()


def text(index: int, *pieces: str) -> list[Event]:
    return [BlockStart(index, TextBlock("")), *(TextDelta(index, p) for p in pieces),
            BlockStop(index)]


def tool(index: int, call_id: str, name: str, *pieces: str) -> list[Event]:
    return [BlockStart(index, ToolUseBlock(call_id, name, {})),
            *(InputJsonDelta(index, p) for p in pieces), BlockStop(index)]


def end(stop: str, output: int) -> list[Event]:
    return [MessageDelta(stop, Usage(output_tokens=output)), MessageStop()]


TEXT = [START, Ping(), *text(0, "Hello", ", wörld"), *end("end_turn", 3)]
STREAMS: list[tuple[str, list[Event], ChatClientOptions]] = [
    ("text", TEXT, USAGE),
    ("text_no_usage", TEXT, NO_USAGE),
    ("text_two_tool_calls", [
        START, *text(0, "Reading both."),
        *tool(1, "call_a", "Read", '{"file_path":', '"/a.txt"}'),
        *tool(2, "call_b", "Glob", "", '{"pattern":"*.py"}'),
        *end("tool_use", 20)], USAGE),
    ("thinking_text", [
        START, BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "Let me "),
        ThinkingDelta(0, "think."), SignatureDelta(0, "c2ln"), BlockStop(0),
        *text(1, "Answer: 4"), *end("max_tokens", 50)], NO_USAGE),
    ("error_mid_stream", [
        START, *text(0, "Start"), StreamError("overloaded_error", "Overloaded"),
        TextDelta(0, "never sent")], USAGE),
]


def render(events: list[Event], options: ChatClientOptions, split: int = 1 << 30) -> bytes:
    renderer = ChatChunkRenderer("chatcmpl-1", "m", 1, options)
    pieces = [renderer.render(events[i : i + split]) for i in range(0, len(events), split)]
    return b"".join(pieces) + renderer.finish()


@pytest.mark.parametrize(("name", "events", "options"), STREAMS, ids=[s[0] for s in STREAMS])
def test_golden(golden: Callable[[str], bytes], name: str, events: list[Event],
                options: ChatClientOptions) -> None:
    expected = golden(f"openai_client/{name}.sse")
    assert render(events, options) == expected
    for split in (1, 2, 5):  # how events are batched does not change the bytes
        assert render(events, options, split) == expected


def frames(data: bytes) -> list[Any]:
    assert data.endswith(b"\n\n")
    out = []
    for frame in data.split(b"\n\n")[:-1]:
        assert frame.startswith(b"data: ")
        out.append("[DONE]" if frame == b"data: [DONE]" else orjson.loads(frame[6:]))
    return out


@pytest.mark.parametrize(("name", "events", "options"), STREAMS, ids=[s[0] for s in STREAMS])
def test_chunk_shape(name: str, events: list[Event], options: ChatClientOptions) -> None:
    chunks = frames(render(events, options))
    failed = name.startswith("error")
    assert (chunks[-1] == "[DONE]") != failed
    for chunk in chunks:
        if chunk == "[DONE]" or "error" in chunk:
            continue
        assert list(chunk)[:5] == ["id", "object", "created", "model", "choices"]
        assert (chunk["id"], chunk["object"], chunk["created"], chunk["model"]) == (
            "chatcmpl-1", "chat.completion.chunk", 1, "m")
        for choice in chunk["choices"]:
            assert choice["index"] == 0


READABLE = STREAMS[:4]


@pytest.mark.parametrize(("name", "events", "options"), READABLE, ids=[s[0] for s in READABLE])
def test_openai_sdk_reads_the_stream(name: str, events: list[Event],
                                     options: ChatClientOptions) -> None:
    """The openai SDK's own accumulator agrees with render_completion of the folded events."""
    state = ChatCompletionStreamState()
    for chunk in frames(render(events, options))[:-1]:
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    streamed = state.current_completion_snapshot
    whole = ChatCompletion.model_validate(render_completion(fold(events), "chatcmpl-1", "m", 1))
    assert streamed.choices[0].finish_reason == whole.choices[0].finish_reason
    assert (streamed.choices[0].message.content or "") == (whole.choices[0].message.content or "")
    assert [(c.id, c.function.name, c.function.arguments)
            for c in streamed.choices[0].message.tool_calls or []] == [
        (c.id, c.function.name, c.function.arguments)  # type: ignore[union-attr]
        for c in whole.choices[0].message.tool_calls or []]
    if options.include_usage:
        assert streamed.usage is not None and whole.usage is not None
        assert streamed.usage.prompt_tokens == whole.usage.prompt_tokens == 120
        assert streamed.usage.total_tokens == whole.usage.total_tokens


def test_error_frame_ends_the_stream() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, NO_USAGE)
    renderer.render([START])
    assert renderer.render([StreamError("rate_limit_error", "slow down")]) == (
        b'data: {"error":{"message":"slow down","type":"rate_limit_error","param":null,'
        b'"code":null}}\n\n')
    assert renderer.render([*text(0, "late"), *end("end_turn", 1)]) == b""
    assert renderer.finish() == b""


@pytest.mark.parametrize(
    ("anthropic", "openai"),
    [("api_error", "server_error"), ("overloaded_error", "server_error"),
     ("rate_limit_error", "rate_limit_error"), ("timeout_error", "timeout"),
     ("invalid_request_error", "invalid_request_error"), ("something_new", "server_error")],
)
def test_error_types(anthropic: str, openai: str) -> None:
    data = ChatChunkRenderer("c", "m", 1, NO_USAGE).render([StreamError(anthropic, "x")])
    assert frames(data)[0]["error"]["type"] == openai


def test_finish_only_once() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, NO_USAGE)
    assert renderer.finish() == b"data: [DONE]\n\n"
    assert renderer.finish() == b""
    assert renderer.render([START]) == b""


def test_silent_events_and_blocks() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, NO_USAGE)
    silent: list[Event] = [
        Ping(), SignatureDelta(0, "s"), BlockStop(0), MessageStop(),
        BlockStart(0, RedactedThinkingBlock("r")), BlockStart(1, TextBlock("")), TextDelta(1, ""),
        BlockStart(2, OpaqueBlock("server_tool_use", {"type": "server_tool_use"})),
        InputJsonDelta(2, '{"q":1}'),  # not a client tool call: not shown
        BlockStart(3, ThinkingBlock("")), ThinkingDelta(3, ""),
    ]
    assert renderer.render(silent) == b""


def test_blocks_that_start_with_content() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, NO_USAGE)
    data = renderer.render([BlockStart(0, ThinkingBlock("hm")), BlockStart(1, TextBlock("hi")),
                            BlockStart(2, ToolUseBlock("t", "F", {"a": 1}))])
    assert [c["choices"][0]["delta"] for c in frames(data)] == [
        {"reasoning_content": "hm"}, {"content": "hi"},
        {"tool_calls": [{"index": 0, "id": "t", "type": "function",
                         "function": {"name": "F", "arguments": '{"a":1}'}}]}]


def test_second_message_delta_is_ignored() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, USAGE)
    once = renderer.render([MessageDelta("end_turn", Usage(1, 2))])
    assert len(frames(once)) == 2
    assert renderer.render([MessageDelta("max_tokens", Usage(1, 2))]) == b""


@pytest.mark.parametrize(
    ("stop", "calls", "expected"),
    [("end_turn", False, "stop"), ("stop_sequence", False, "stop"), ("pause_turn", False, "stop"),
     (None, False, "stop"), ("max_tokens", False, "length"),
     ("model_context_window_exceeded", False, "length"), ("tool_use", False, "tool_calls"),
     ("refusal", False, "content_filter"), ("something_new", False, "stop"),
     ("end_turn", True, "tool_calls"), ("tool_use", True, "tool_calls"),
     # a tool call cut by the token limit is reported as cut, as OpenAI does
     ("max_tokens", True, "length")],
)
def test_finish_reason(stop: str | None, calls: bool, expected: str) -> None:
    assert finish_reason(stop, calls) == expected


def test_usage_json() -> None:
    assert usage_json(Usage(10, 5, 3, 100)) == {
        "prompt_tokens": 113, "completion_tokens": 5, "total_tokens": 118,
        "prompt_tokens_details": {"cached_tokens": 100}}


def test_usage_merges_start_and_delta() -> None:
    renderer = ChatChunkRenderer("c", "m", 1, USAGE)
    data = renderer.render([MessageStart("x", "m", Usage(7, 1, 2, 3)),
                            MessageDelta("end_turn", Usage(output_tokens=9))])
    assert frames(data)[-1]["usage"] == usage_json(Usage(7, 9, 2, 3))


def completion(message: dict[str, Any], finish: str, usage: Usage) -> dict[str, Any]:
    return {
        "id": "chatcmpl-9", "object": "chat.completion", "created": 7, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", **message},
                     "logprobs": None, "finish_reason": finish}],
        "usage": {**usage_json(usage), "completion_tokens_details": {"reasoning_tokens": 0}},
    }


@pytest.mark.parametrize(
    ("content", "stop", "message", "finish"),
    [
        ((TextBlock("Hel"), TextBlock("lo")), "end_turn",
         {"content": "Hello", "refusal": None}, "stop"),
        ((), "max_tokens", {"content": "", "refusal": None}, "length"),
        ((ToolUseBlock("call_1", "Bash", {"command": "ls"}),), "end_turn",
         {"content": None, "refusal": None, "tool_calls": [
             {"id": "call_1", "type": "function",
              "function": {"name": "Bash", "arguments": '{"command":"ls"}'}}]}, "tool_calls"),
        ((ThinkingBlock("hm", "sig"), RedactedThinkingBlock("r"), TextBlock("ok"),
          ToolUseBlock("c", "F", {})), "tool_use",
         {"content": "ok", "refusal": None,
          "tool_calls": [{"id": "c", "type": "function",
                          "function": {"name": "F", "arguments": "{}"}}],
          "reasoning_content": "hm"}, "tool_calls"),
        ((TextBlock("no"),), "refusal", {"content": "no", "refusal": None}, "content_filter"),
    ],
)
def test_render_completion(content: tuple[Any, ...], stop: str, message: dict[str, Any],
                           finish: str) -> None:
    usage = Usage(10, 5, 0, 4)
    response = Response("msg_1", "upstream-model", content, stop, usage)
    rendered = render_completion(response, "chatcmpl-9", "m", 7)
    assert rendered == completion(message, finish, usage)
    assert list(rendered) == ["id", "object", "created", "model", "choices", "usage"]
    ChatCompletion.model_validate(rendered)
