"""ConverseStream events → canonical events; whole Converse and InvokeModel answers."""

from __future__ import annotations

import orjson

from lynkr.formats.bedrock.invoke import InvokeStreamParser
from lynkr.formats.bedrock.stream import ConverseStreamParser, converse_events
from lynkr.formats.fold import fold
from lynkr.formats.reasoning import unpack
from lynkr.model.content import TextBlock, ThinkingBlock, ToolUseBlock
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)

USAGE = {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42,
         "cacheReadInputTokens": 5, "cacheWriteInputTokens": 7}
STREAM = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {
        "reasoningContent": {"text": "think"}}}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {
        "reasoningContent": {"signature": "sig"}}}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "Hi"}}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {"contentBlockStart": {"contentBlockIndex": 2, "start": {
        "toolUse": {"toolUseId": "tooluse_1", "name": "Bash"}}}},
    {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"comm'}}}},
    {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"toolUse": {"input": 'and":"ls"}'}}}},
    {"contentBlockStop": {"contentBlockIndex": 2}},
    {"messageStop": {"stopReason": "tool_use"}},
    {"metadata": {"usage": USAGE, "metrics": {"latencyMs": 10}}},
]
FINAL_USAGE = Usage(30, 12, 7, 5)


def test_stream_maps_reasoning_text_and_tools_with_usage_from_metadata() -> None:
    parser = ConverseStreamParser("msg_1", "claude", 99)
    events = [e for item in STREAM for e in parser.feed(item)]
    assert events == [
        MessageStart("msg_1", "claude", Usage(input_tokens=99)),
        BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "think"),
        SignatureDelta(0, "sig"), BlockStop(0),
        BlockStart(1, TextBlock("")), TextDelta(1, "Hi"), BlockStop(1),
        BlockStart(2, ToolUseBlock("tooluse_1", "Bash", {})),
        InputJsonDelta(2, '{"command":"ls"}'), BlockStop(2),
        MessageDelta("tool_use", FINAL_USAGE), MessageStop(),
    ]
    assert parser.done and parser.close() == []


def test_stop_reason_waits_for_metadata_and_guardrails_are_refusals() -> None:
    parser = ConverseStreamParser("m", "x")
    parser.feed({"messageStart": {"role": "assistant"}})
    assert parser.feed({"messageStop": {"stopReason": "guardrail_intervened"}}) == []
    assert parser.feed({"metadata": {"usage": USAGE}})[-2:] == [
        MessageDelta("refusal", FINAL_USAGE), MessageStop()]


def test_exception_event_and_cut_stream_are_errors() -> None:
    parser = ConverseStreamParser("m", "x")
    parser.feed({"messageStart": {"role": "assistant"}})
    assert parser.feed({"throttlingException": {"message": "slow"}}) == [
        StreamError("rate_limit_error", "bedrock: throttlingException: slow")]
    cut = ConverseStreamParser("m", "x")
    cut.feed({"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "a"}}})
    assert isinstance(cut.close()[-1], StreamError)


def test_stop_without_metadata_still_finishes_on_close() -> None:
    parser = ConverseStreamParser("m", "x")
    parser.feed({"messageStop": {"stopReason": "max_tokens"}})
    assert parser.close()[-2:] == [MessageDelta("max_tokens", Usage()), MessageStop()]


def test_whole_converse_answer_folds_like_the_stream() -> None:
    answer = {"output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
        {"text": "Hi"},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "Bash", "input": {"command": "ls"}}}]}},
        "stopReason": "tool_use", "usage": USAGE}
    whole = fold(converse_events(answer, "msg_1", "claude"))
    parser = ConverseStreamParser("msg_1", "claude")
    streamed = fold([e for item in STREAM for e in parser.feed(item)])
    assert whole == streamed
    assert whole.content == (ThinkingBlock("think", "sig"), TextBlock("Hi"),
                             ToolUseBlock("tooluse_1", "Bash", {"command": "ls"}))


def test_invoke_chunks_are_anthropic_events_without_bedrock_metrics() -> None:
    parser = InvokeStreamParser("msg_ours", "claude-client")
    chunks = [
        {"type": "message_start", "message": {"id": "msg_bdrk", "type": "message",
                                              "role": "assistant", "model": "claude-bdrk",
                                              "content": [], "usage": {"input_tokens": 9,
                                                                       "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text",
                                                                      "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta",
                                                              "text": "ok"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
         "usage": {"output_tokens": 3}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9}},
    ]
    events = [e for c in chunks for e in parser.feed(orjson.dumps(c))]
    assert events == [
        MessageStart("msg_ours", "claude-client", Usage(9, 1)),
        BlockStart(0, TextBlock("")), TextDelta(0, "ok"), BlockStop(0),
        MessageDelta("end_turn", Usage(9, 3)), MessageStop(),
    ]
    assert parser.done and parser.close() == []


def test_reasoning_without_a_bedrock_signature_still_gets_one() -> None:
    parser = ConverseStreamParser("msg_1", "deepseek.r1")
    events = [e for item in [*STREAM[:2], STREAM[3], *STREAM[-2:]] for e in parser.feed(item)]
    [signature] = [e.signature for e in events if isinstance(e, SignatureDelta)]
    assert unpack(signature) == ("bedrock", {"reasoning_content": "think"})
