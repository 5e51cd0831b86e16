"""Round-trip properties of every format, over generated values and arbitrary byte splits."""

import itertools
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.formats.anthropic.request import parse_request, render_request
from lynkr.formats.anthropic.sse import SseParser, render_events
from lynkr.formats.fold import fold
from lynkr.formats.ollama.stream import OllamaStreamParser
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    ImageBlock,
    InputJsonDelta,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    OpaqueBlock,
    Ping,
    RedactedThinkingBlock,
    Request,
    Response,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

PROPERTY = settings(max_examples=100, deadline=None)

# ---- shared value strategies ------------------------------------------------------------------

texts = st.text(max_size=20)
ids = st.text("abcXYZ019_-", min_size=1, max_size=8)
scalars = (st.none() | st.booleans() | st.integers(-(2**53), 2**53)
           | st.floats(allow_nan=False, allow_infinity=False) | texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)
cache = st.none() | st.just({"type": "ephemeral"}) | st.just({"type": "ephemeral", "ttl": "1h"})
text_blocks = st.builds(
    TextBlock, texts, cache,
    st.just({}) | st.just({"citations": [{"type": "char_location", "cited_text": "c"}]}),
)
images = st.builds(ImageBlock, st.sampled_from([
    {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    {"type": "url", "url": "https://x.test/a.png"},
]), cache)
documents = st.builds(lambda t: OpaqueBlock("document", {
    "type": "document", "title": t, "source": {"type": "text", "media_type": "text/plain",
                                               "data": t}}), texts)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


cut_points = st.lists(st.integers(0, 1 << 16), max_size=12)

# ---- (1) Anthropic requests: parse(render(r)) == r --------------------------------------------


@st.composite
def exchanges(draw: st.DrawFn) -> list[Message]:
    """A user turn, or an assistant turn with tool calls and the user turn answering them."""
    if draw(st.booleans()):
        return [Message("user", tuple(draw(st.lists(text_blocks | images | documents,
                                                     min_size=1, max_size=3))))]
    calls = draw(st.lists(st.builds(ToolUseBlock, ids, ids, json_objects, cache),
                          min_size=1, max_size=3, unique_by=lambda b: b.id))
    thinking = draw(st.lists(st.builds(ThinkingBlock, texts, texts)
                             | st.builds(RedactedThinkingBlock, texts), max_size=1))
    said = draw(st.lists(text_blocks, max_size=2))
    results = tuple(
        ToolResultBlock(c.id, tuple(draw(st.lists(text_blocks | images, max_size=2))),
                        draw(st.booleans()), draw(cache))
        for c in calls
    )
    after = draw(st.lists(text_blocks | images, max_size=2))
    return [Message("assistant", (*thinking, *said, *calls)),
            Message("user", (*results, *after))]


@st.composite
def requests(draw: st.DrawFn) -> Request:
    messages: list[Message] = []
    for exchange in draw(st.lists(exchanges(), max_size=3)):
        if draw(st.booleans()):
            messages.append(Message("system", tuple(draw(st.lists(text_blocks, min_size=1,
                                                                  max_size=2)))))
        messages.extend(exchange)
    client_tools = st.builds(
        Tool, ids, texts, st.just({"$schema": "s", "type": "object"}) | json_objects,
        st.none() | st.just("custom"),
        st.just({}) | st.just({"defer_loading": True}) | st.just({"cache_control": {"type": "x"}}),
    )
    server_tools = st.builds(Tool, ids, type=st.just("web_search_20250305"),
                             extra=st.just({"max_uses": 2}))
    extra = st.dictionaries(st.sampled_from(["context_management", "output_config", "x_new"]),
                            json_values, max_size=2)
    return Request(
        model=draw(st.text(min_size=1, max_size=10)),
        messages=tuple(messages),
        max_tokens=draw(st.integers(0, 200_000)),
        system=tuple(draw(st.lists(text_blocks, max_size=3))),
        stream=draw(st.booleans()),
        tools=tuple(draw(st.lists(client_tools | server_tools, max_size=3))),
        tool_choice=draw(st.none() | st.sampled_from([{"type": "auto"}, {"type": "any"}, {
            "type": "tool", "name": "x", "disable_parallel_tool_use": True}])),
        thinking=draw(st.none() | st.just({"type": "adaptive", "display": "omitted"})),
        temperature=draw(st.none() | st.floats(0, 2) | st.integers(0, 1)),
        top_p=draw(st.none() | st.floats(0, 1)),
        top_k=draw(st.none() | st.integers(0, 500)),
        stop_sequences=tuple(draw(st.lists(texts, max_size=3))),
        metadata=draw(st.none() | st.just({"user_id": '{"device_id":"d"}'})),
        extra=draw(extra),
    )


@PROPERTY
@given(requests())
def test_anthropic_request_round_trip(request: Request) -> None:
    body = orjson.loads(orjson.dumps(render_request(request)))
    assert parse_request(body) == request


# ---- (2) Anthropic SSE: parse(render(events)) == events, however split ------------------------


@st.composite
def block_events(draw: st.DrawFn, index: int) -> list[Event]:
    kind = draw(st.sampled_from(["text", "tool_use", "thinking", "redacted"]))
    pings = st.lists(st.just(Ping()), max_size=1)
    events: list[Event]
    if kind == "text":
        events = [BlockStart(index, TextBlock(""))]
        events += [TextDelta(index, t) for t in draw(st.lists(texts, max_size=3))]
    elif kind == "tool_use":
        events = [BlockStart(index, ToolUseBlock(draw(ids), draw(ids), {}))]
        events += [InputJsonDelta(index, t) for t in draw(st.lists(texts, max_size=3))]
    elif kind == "thinking":
        events = [BlockStart(index, ThinkingBlock(""))]
        events += [ThinkingDelta(index, t) for t in draw(st.lists(texts, max_size=3))]
        events += [SignatureDelta(index, draw(texts))]
    else:
        events = [BlockStart(index, RedactedThinkingBlock(draw(texts)))]
    return [*events, *draw(pings), BlockStop(index)]


usages = st.builds(Usage, *[st.integers(0, 10**7)] * 4)


@st.composite
def event_streams(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = [MessageStart(draw(ids), draw(texts), draw(usages))]
    for index in range(draw(st.integers(0, 4))):
        events += draw(block_events(index))
    if draw(st.booleans()):
        return [*events, StreamError(draw(st.sampled_from(["api_error", "overloaded_error"])),
                                     draw(texts))]
    stop = draw(st.sampled_from([None, "end_turn", "tool_use", "max_tokens", "stop_sequence"]))
    return [*events, MessageDelta(stop, draw(usages), draw(st.none() | texts)), MessageStop()]


@PROPERTY
@given(event_streams(), cut_points)
def test_anthropic_sse_round_trip(events: list[Event], cuts: list[int]) -> None:
    parser = SseParser()
    out = [e for piece in chunked(render_events(events), cuts) for e in parser.feed(piece)]
    assert out == events


# ---- (3) OpenAI chunk streams: text and tool inputs survive, however split --------------------

call_specs = st.lists(st.tuples(ids, ids, json_objects), max_size=3, unique_by=lambda c: c[0])


@st.composite
def fragments(draw: st.DrawFn, value: str) -> list[str]:
    """``value`` cut at arbitrary character positions."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(value)), max_size=4))))
    bounds = [0, *cuts, len(value)]
    return [value[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def interleave(draw: st.DrawFn, queues: list[list[Any]]) -> list[Any]:
    """All items of all queues, each queue's order kept, queues mixed arbitrarily."""
    queues = [list(q) for q in queues if q]
    out = []
    while queues:
        queue = draw(st.sampled_from(queues))
        out.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return out


def text_and_inputs(response: Response) -> tuple[str, list[tuple[str, str, Any]]]:
    text = "".join(b.text for b in response.content if isinstance(b, TextBlock))
    calls = [(b.id, b.name, b.input) for b in response.content if isinstance(b, ToolUseBlock)]
    return text, calls


@PROPERTY
@given(st.data(), st.lists(st.text(min_size=1, max_size=10), max_size=4), call_specs, cut_points)
def test_openai_stream_fold(data: st.DataObject, pieces: list[str],
                            calls: list[tuple[str, str, dict[str, Any]]], cuts: list[int]) -> None:
    deltas: list[list[dict[str, Any]]] = [[{"content": p} for p in pieces]]
    for index, (call_id, name, args) in enumerate(calls):
        parts = data.draw(fragments(orjson.dumps(args).decode()))
        first = {"index": index, "id": call_id, "type": "function",
                 "function": {"name": name, "arguments": parts[0]}}
        rest = [{"index": index, "function": {"arguments": p}} for p in parts[1:]]
        deltas.append([{"tool_calls": [d]} for d in (first, *rest)])
    mixed = data.draw(interleave(deltas))
    chunks = [{"id": "c", "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
              for d in mixed]
    # Calls are emitted in the order the upstream first named them.
    seen = [d["tool_calls"][0]["index"] for d in mixed if "id" in d.get("tool_calls", [{}])[0]]
    finish = "tool_calls" if calls else data.draw(st.sampled_from(["stop", "length"]))
    chunks += [{"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
               {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}]
    body = b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
    parser = ChatStreamParser("msg_p", "m")
    events = [e for piece in chunked(body, cuts) for e in parser.feed(piece)] + parser.close()
    response = fold(events)
    assert text_and_inputs(response) == ("".join(pieces), [calls[i] for i in seen])
    assert response.usage == Usage(input_tokens=9, output_tokens=4)
    assert response.stop_reason == {"tool_calls": "tool_use", "stop": "end_turn",
                                     "length": "max_tokens"}[finish]


# ---- (4) Ollama NDJSON: the same, with whole calls and synthesised ids ------------------------


@PROPERTY
@given(st.lists(st.text(min_size=1, max_size=10) | st.tuples(ids, json_objects), max_size=6),
       st.lists(st.text(min_size=1, max_size=10), max_size=2), cut_points)
def test_ollama_stream_fold(items: list[str | tuple[str, dict[str, Any]]], thoughts: list[str],
                            cuts: list[int]) -> None:
    lines = [{"message": {"role": "assistant", "content": "", "thinking": t}, "done": False}
             for t in thoughts]
    for item in items:
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if isinstance(item, str):
            message["content"] = item
        else:
            message["tool_calls"] = [{"function": {"name": item[0], "arguments": item[1]}}]
        lines.append({"message": message, "done": False})
    lines.append({"message": {"role": "assistant", "content": ""}, "done": True,
                  "done_reason": "stop", "prompt_eval_count": 11, "eval_count": 3})
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    parser = OllamaStreamParser("msg_q", "m")
    events = [e for piece in chunked(body, cuts) for e in parser.feed(piece)] + parser.close()
    response = fold(events)
    calls = [i for i in items if isinstance(i, tuple)]
    expected_calls = [(f"toolu_q_{n}", name, args) for n, (name, args) in enumerate(calls)]
    text = "".join(i for i in items if isinstance(i, str))
    assert text_and_inputs(response) == (text, expected_calls)
    thinking = [b.thinking for b in response.content if isinstance(b, ThinkingBlock)]
    assert "".join(thinking) == "".join(thoughts)
    assert response.stop_reason == ("tool_use" if calls else "end_turn")
    assert response.usage == Usage(input_tokens=11, output_tokens=3)
