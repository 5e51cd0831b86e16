"""ResponsesEventRenderer and render_response: canonical answers out as OpenAI Responses.

The authority on shape is the official openai SDK: every frame we emit must validate strictly as
one of its ``ResponseStreamEvent`` models, the final objects as its ``Response``, and its own
streaming client (driven through ``httpx.MockTransport``) must assemble the answer we meant.
"""

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import openai
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response as SdkResponse
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from lynkr.formats.fold import fold
from lynkr.formats.openai_responses.egress import (
    ResponsesEventRenderer,
    output_message,
    render_response,
)
from lynkr.formats.openai_responses.ingress import (
    ResponsesClientOptions,
    parse_responses_request,
)
from lynkr.formats.sse import SseDecoder
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    Message,
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

EVENTS = TypeAdapter(ResponseStreamEvent)
RESP_ID, MODEL, CREATED = "resp_abc", "gpt-5", 1735000000
START = MessageStart("msg_1", "upstream-model", Usage(input_tokens=12))
TOOLS_BODY = {"model": MODEL, "input": "List files.", "instructions": "Be brief.",
              "tools": [{"type": "function", "name": "Bash", "description": "Run a command.",
                         "parameters": {"type": "object", "properties": {
                             "command": {"type": "string"}}, "required": ["command"]},
                         "strict": False}],
              "tool_choice": "auto", "metadata": {"session": "s1"}}
OPTIONS = parse_responses_request(TOOLS_BODY)[1]


def text_block(index: int, *pieces: str) -> list[Event]:
    return [BlockStart(index, TextBlock("")), *(TextDelta(index, p) for p in pieces),
            BlockStop(index)]


def tool(index: int, call_id: str, name: str, *pieces: str) -> list[Event]:
    return [BlockStart(index, ToolUseBlock(call_id, name, {})),
            *(InputJsonDelta(index, p) for p in pieces), BlockStop(index)]


def end(stop: str, usage: Usage) -> list[Event]:
    return [MessageDelta(stop, usage), MessageStop()]


ANSWERS: dict[str, list[Event]] = {
    "text": [START, *text_block(0, "Hello", ", wörld"), *end("end_turn", Usage(output_tokens=4))],
    "function_call": [START, *text_block(0, "Listing."),
                      *tool(1, "call_1", "Bash", '{"command"', ':"ls -la"}'),
                      *end("tool_use", Usage(3, 9, 5, 100))],
    "reasoning_incomplete": [START, BlockStart(0, ThinkingBlock("")), ThinkingDelta(0, "Let me "),
                             ThinkingDelta(0, "think."), SignatureDelta(0, "sig"), BlockStop(0),
                             *text_block(1, "Answer:"),
                             *end("max_tokens", Usage(output_tokens=50))],
}


def render(events: list[Event], options: ResponsesClientOptions = OPTIONS,
           batches: list[int] | None = None) -> bytes:
    renderer = ResponsesEventRenderer(RESP_ID, MODEL, CREATED, options)
    sizes = batches or [len(events)]
    out, at, turn = b"", 0, 0
    while at < len(events):
        size = max(1, sizes[turn % len(sizes)])
        out += renderer.render(events[at : at + size])
        at, turn = at + size, turn + 1
    return out + renderer.finish()


def frames(data: bytes) -> list[dict[str, Any]]:
    """Every frame's JSON; checks the framing and the sequence numbers on the way."""
    decoder = SseDecoder()
    pairs = decoder.feed(data)
    assert not decoder.pending
    out = []
    for n, (name, payload) in enumerate(pairs):
        obj = orjson.loads(payload)
        assert obj["type"] == name.decode() and obj["sequence_number"] == n
        out.append(obj)
    return out


def validate(data: bytes) -> list[Any]:
    """Each frame as the SDK's own event model, validated strictly."""
    models = [EVENTS.validate_python(obj, strict=True) for obj in frames(data)]
    for model, obj in zip(models, frames(data), strict=True):
        assert model.type == obj["type"]
        if "response" in obj:
            SdkResponse.model_validate(obj["response"], strict=True)
    return models


def sdk_stream(data: bytes) -> tuple[list[str], Any]:
    """Our bytes through the official client's streaming helper: event types, final response."""
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/responses"
        return httpx.Response(200, content=data, headers={"content-type": "text/event-stream"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = openai.OpenAI(api_key="k", base_url="http://lynkr.test/v1", http_client=http)
        with client.responses.stream(model=MODEL, input="List files.") as stream:
            kinds = [event.type for event in stream]
            return kinds, stream.get_final_response()


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_golden(golden: Callable[[str], bytes], name: str) -> None:
    data = render(ANSWERS[name])
    assert data == golden(f"openai_responses/{name}.sse")
    for sizes in ([1], [2, 3], [5]):
        assert render(ANSWERS[name], batches=sizes) == data


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_every_frame_validates_as_the_sdk_models(name: str) -> None:
    models = validate(render(ANSWERS[name]))
    final = models[-1]
    assert final.type == "response.completed"
    expected = render_response(fold(ANSWERS[name]), RESP_ID, MODEL, CREATED, OPTIONS)
    assert final.response == SdkResponse.model_validate(expected, strict=True)


def test_the_sdk_client_assembles_the_answer() -> None:
    kinds, final = sdk_stream(render(ANSWERS["function_call"]))
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text == "Listing."
    (call,) = [item for item in final.output if item.type == "function_call"]
    assert (call.call_id, call.name, call.arguments) == ("call_1", "Bash", '{"command":"ls -la"}')
    assert final.usage.input_tokens == 108 and final.usage.input_tokens_details.cached_tokens == 100
    assert final.usage.total_tokens == 117
    assert final.tools[0].name == "Bash" and final.instructions == "Be brief."


def test_truncated_answer_completes_as_incomplete() -> None:
    kinds, final = sdk_stream(render(ANSWERS["reasoning_incomplete"]))
    assert kinds[-1] == "response.completed"
    assert final.status == "incomplete"
    assert final.incomplete_details.reason == "max_output_tokens"
    reasoning = final.output[0]
    assert reasoning.type == "reasoning" and reasoning.summary[0].text == "Let me think."
    assert reasoning.encrypted_content is None  # not asked for in ``include``


def test_encrypted_reasoning_when_included() -> None:
    options = parse_responses_request({"model": MODEL, "input": "q",
                                       "include": ["reasoning.encrypted_content"]})[1]
    events = ANSWERS["reasoning_incomplete"]
    (done,) = [f for f in frames(render(events, options))
               if f["type"] == "response.output_item.done" and f["output_index"] == 0]
    assert done["item"]["encrypted_content"] == "sig"
    whole = render_response(fold(events), RESP_ID, MODEL, CREATED, options)
    assert whole["output"][0] == done["item"]


def test_error_mid_stream_is_response_failed() -> None:
    data = render([START, BlockStart(0, TextBlock("")), TextDelta(0, "Half"),
                   StreamError("overloaded_error", "Overloaded"), TextDelta(0, "ignored")])
    models = validate(data)
    failed = models[-1]
    assert failed.type == "response.failed"
    assert failed.response.status == "failed"
    assert failed.response.error.code == "server_error"
    assert failed.response.error.message == "Overloaded"
    assert failed.response.output[0].content[0].text == "Half"
    assert failed.response.output[0].status == "in_progress"


def test_error_before_anything_is_an_error_event() -> None:
    (event,) = validate(render([StreamError("rate_limit_error", "Slow down")]))
    assert (event.type, event.code, event.message) == ("error", "rate_limit_exceeded",
                                                       "Slow down")


def test_arguments_never_empty_and_odd_blocks_skipped() -> None:
    events = [START, Ping(), BlockStart(0, RedactedThinkingBlock("x")), BlockStop(0),
              BlockStart(1, OpaqueBlock("server_tool_use", {"type": "server_tool_use"})),
              BlockStop(1), *tool(2, "call_9", "Noop"), *end("tool_use", Usage())]
    data = render(events)
    models = validate(data)
    deltas = [m.delta for m in models if m.type == "response.function_call_arguments.delta"]
    assert deltas == ["{}"]
    final = models[-1].response
    assert [(o.type, o.id, o.arguments) for o in final.output] == [
        ("function_call", "fc_abc_0", "{}")]
    assert render_response(fold(events), RESP_ID, MODEL, CREATED, OPTIONS)["output"] == [
        item.model_dump(exclude_unset=True) for item in final.output]


def test_unclosed_blocks_are_closed_at_the_end() -> None:
    models = validate(render([START, BlockStart(0, TextBlock("")), TextDelta(0, "x"),
                              *end("end_turn", Usage())]))
    assert [m.type for m in models][-4:] == [
        "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed"]


def test_nothing_after_the_end() -> None:
    renderer = ResponsesEventRenderer(RESP_ID, MODEL, CREATED, OPTIONS)
    renderer.render(ANSWERS["text"])
    assert renderer.render([START, *text_block(0, "again"), MessageStop()]) == b""
    assert renderer.finish() == b""


def test_render_response_non_stream() -> None:
    response = Response("msg_1", "upstream", (
        ThinkingBlock("hmm", "sig"), TextBlock("Hi"),
        ToolUseBlock("call_1", "Bash", {"command": "ls"}), OpaqueBlock("x", {"type": "x"}),
    ), "tool_use", Usage(10, 2, cache_read_input_tokens=5))
    body = render_response(response, RESP_ID, MODEL, CREATED, OPTIONS)
    sdk = SdkResponse.model_validate(body, strict=True)
    assert [o.id for o in sdk.output] == ["rs_abc_0", "msg_abc_1", "fc_abc_2"]
    assert sdk.output_text == "Hi"
    assert sdk.output[2].arguments == '{"command":"ls"}'
    assert body["usage"] == {"input_tokens": 15,
                             "input_tokens_details": {"cached_tokens": 5, "cache_write_tokens": 0},
                             "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0},
                             "total_tokens": 17}
    assert (body["status"], body["tool_choice"], body["metadata"]) == (
        "completed", "auto", {"session": "s1"})


@pytest.mark.parametrize(("stop", "status", "reason"), [
    ("end_turn", "completed", None), ("tool_use", "completed", None),
    ("stop_sequence", "completed", None), ("max_tokens", "incomplete", "max_output_tokens"),
    ("refusal", "incomplete", "content_filter"), (None, "completed", None),
])
def test_status_from_stop_reason(stop: str | None, status: str, reason: str | None) -> None:
    body = render_response(Response("m", "m", (), stop, Usage()), RESP_ID, MODEL, CREATED,
                           ResponsesClientOptions())
    SdkResponse.model_validate(body, strict=True)
    assert body["status"] == status
    assert body["incomplete_details"] == (reason and {"reason": reason})


def test_output_message_for_the_store() -> None:
    response = Response("m", "m", (TextBlock(""), ThinkingBlock("t", "s"), TextBlock("a"),
                                   ToolUseBlock("c", "f", {})), "tool_use", Usage())
    assert output_message(response) == Message(
        "assistant", (ThinkingBlock("t", "s"), TextBlock("a"), ToolUseBlock("c", "f", {})))


# ---- property: what we render folds back to the canonical answer, however it was chunked ----

PROPERTY = settings(max_examples=60, deadline=None)
json_values = (st.integers(-(2**53), 2**53) | st.text(max_size=5)
               | st.lists(st.booleans(), max_size=2))
json_inputs = st.dictionaries(st.text(max_size=5), json_values, max_size=3)


@st.composite
def chunks(draw: st.DrawFn, whole: str) -> list[str]:
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(whole) - 1)), max_size=4)))
    bounds = [0, *(c for c in cuts if c < len(whole)), len(whole)]
    return [whole[a:b] for a, b in itertools.pairwise(bounds) if whole[a:b]]


@st.composite
def answers(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = [START]
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["text", "tool", "thinking"]))
        if kind == "text":
            events += text_block(index, *draw(chunks(draw(st.text(max_size=30)))))
        elif kind == "tool":
            args = orjson.dumps(draw(json_inputs)).decode()
            events += tool(index, f"call_{index}", "f", *draw(chunks(args)))
        else:
            events += [BlockStart(index, ThinkingBlock("")),
                       *(ThinkingDelta(index, p) for p in draw(chunks(draw(st.text(max_size=20))))),
                       SignatureDelta(index, "sig"), BlockStop(index)]
    stop = draw(st.sampled_from(["end_turn", "tool_use", "max_tokens"]))
    return events + end(stop, Usage(output_tokens=draw(st.integers(0, 99))))


def refold(data: bytes) -> list[Any]:
    """Our Responses frames folded back into canonical blocks, from the deltas alone."""
    items: dict[int, dict[str, Any]] = {}
    for obj in frames(data):
        kind = obj["type"]
        if kind == "response.output_item.added":
            items[obj["output_index"]] = {**obj["item"], "text": ""}
        elif kind in ("response.output_text.delta", "response.function_call_arguments.delta",
                      "response.reasoning_summary_text.delta"):
            items[obj["output_index"]]["text"] += obj["delta"]
    blocks: list[Any] = []
    for item in (items[i] for i in sorted(items)):
        if item["type"] == "message":
            blocks.append(TextBlock(item["text"]))
        elif item["type"] == "function_call":
            blocks.append(ToolUseBlock(item["call_id"], item["name"], orjson.loads(item["text"])))
        else:
            blocks.append(ThinkingBlock(item["text"], "sig"))
    return blocks


@PROPERTY
@given(answers(), st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_rendered_streams_fold_back(events: list[Event], batches: list[int]) -> None:
    data = render(events, batches=batches)
    assert data == render(events)
    answer = fold(events)
    assert refold(data) == list(answer.content)
    completed = frames(data)[-1]
    assert completed["type"] == "response.completed"
    assert completed["response"] == render_response(answer, RESP_ID, MODEL, CREATED, OPTIONS)
    validate(data)
