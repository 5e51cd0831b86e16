"""Properties of the OpenAI Chat client side, over generated requests and event streams.

(a) OpenAI request → canonical → OpenAI request keeps every message's meaning;
(b) canonical events → our chunks → the upstream chunk parser → the same answer, however split;
(c) the streamed chunks, accumulated as a client does, agree with render_completion.
"""

import itertools
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.formats.fold import fold, merge_usage
from lynkr.formats.openai_chat.egress import ChatChunkRenderer, render_completion
from lynkr.formats.openai_chat.ingress import ChatClientOptions, parse_chat_request
from lynkr.formats.openai_chat.request import ChatOptions, build_chat_request
from lynkr.formats.openai_chat.stream import ChatStreamParser
from lynkr.model import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
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

PROPERTY = settings(max_examples=100, deadline=None)

texts = st.text(max_size=20)
words = st.text(min_size=1, max_size=20)
ids = st.text("abcXYZ019_-", min_size=1, max_size=8)
scalars = (st.none() | st.booleans() | st.integers(-(2**53), 2**53)
           | st.floats(allow_nan=False, allow_infinity=False) | texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)
image_urls = st.sampled_from(["data:image/png;base64,iVBORw0KGgo=",
                              "data:image/jpeg;base64,/9j/", "https://x.test/a.png"])


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


cut_points = st.lists(st.integers(0, 1 << 16), max_size=12)

# ---- (a) OpenAI request → canonical → OpenAI request ------------------------------------------

text_parts = st.builds(lambda t: {"type": "text", "text": t}, words)
image_parts = st.builds(lambda u: {"type": "image_url", "image_url": {"url": u}}, image_urls)


def content(parts: st.SearchStrategy[dict[str, Any]], text: st.SearchStrategy[str]) -> Any:
    return text | st.lists(parts, min_size=1, max_size=3)


@st.composite
def system_messages(draw: st.DrawFn) -> dict[str, Any]:
    return {"role": draw(st.sampled_from(["system", "developer"])),
            "content": draw(content(st.builds(lambda t: {"type": "text", "text": t}, texts),
                                    texts))}


def user_messages() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda c: {"role": "user", "content": c},
                     content(text_parts | image_parts, words))


@st.composite
def tool_exchanges(draw: st.DrawFn) -> list[dict[str, Any]]:
    """An assistant turn with tool calls, one tool message per call, maybe a user message."""
    calls = draw(st.lists(st.tuples(ids, ids, json_objects), min_size=1, max_size=3,
                          unique_by=lambda c: c[0]))
    assistant: dict[str, Any] = {
        "role": "assistant",
        "content": draw(st.none() | texts | st.lists(text_parts, max_size=2)),
        "tool_calls": [
            {"id": i, "type": "function", "function": {
                "name": name,
                "arguments": args if draw(st.booleans()) else orjson.dumps(args).decode()}}
            for i, name, args in calls],
    }
    if draw(st.booleans()):
        assistant["reasoning_content"] = draw(texts)  # dropped on the way to OpenAI
    order = draw(st.permutations([c[0] for c in calls]))
    results = [{"role": "tool", "tool_call_id": i,
                "content": draw(texts | st.lists(text_parts, max_size=2))} for i in order]
    after = draw(st.lists(user_messages(), max_size=1))
    return [assistant, *results, *after]


@st.composite
def chat_bodies(draw: st.DrawFn) -> dict[str, Any]:
    messages = draw(st.lists(system_messages(), max_size=2))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["user", "assistant", "tools", "system"]))
        if kind == "user":
            messages.append(draw(user_messages()))
        elif kind == "assistant":
            messages.append({"role": "assistant", "content": draw(st.none() | texts)})
        elif kind == "tools":
            messages.extend(draw(tool_exchanges()))
        elif any(m["role"] not in ("system", "developer") for m in messages):
            messages.append(draw(system_messages()))
    return {"model": "m", "messages": messages}


def texts_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [p["text"] for p in value if p["type"] == "text"]


def meaning(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a chat message list says: the leading system prompt joined, then each message."""
    leading = list(itertools.takewhile(lambda m: m["role"] in ("system", "developer"), messages))
    prompt = "\n\n".join(t for m in leading for t in texts_of(m["content"]) if t)
    out: list[tuple[Any, ...]] = [("system", prompt)] if prompt else []
    for m in messages[len(leading):]:
        role, value = m["role"], m.get("content")
        if role in ("system", "developer"):
            out.append(("system", "\n".join(texts_of(value))))
        elif role == "user":
            images = [] if isinstance(value, str) else [
                p["image_url"]["url"] for p in value if p["type"] == "image_url"]
            out.append(("user", "\n".join(texts_of(value)), images))
        elif role == "assistant":
            calls = [(c["id"], c["function"]["name"],
                      c["function"]["arguments"] if isinstance(c["function"]["arguments"], dict)
                      else orjson.loads(c["function"]["arguments"]))
                     for c in m.get("tool_calls") or ()]
            out.append(("assistant", "".join(texts_of(value)), calls))
        else:
            out.append(("tool", m["tool_call_id"], "\n".join(texts_of(value))))
    return out


@PROPERTY
@given(chat_bodies())
def test_openai_request_round_trip(body: dict[str, Any]) -> None:
    request, _ = parse_chat_request(body)
    rebuilt = build_chat_request(request, ChatOptions())
    assert meaning(rebuilt["messages"]) == meaning(body["messages"])


# ---- (b) canonical events → our chunks → the upstream parser ----------------------------------


@st.composite
def fragments(draw: st.DrawFn, value: str) -> list[str]:
    """``value`` cut at arbitrary character positions."""
    cuts = sorted(set(draw(st.lists(st.integers(0, len(value)), max_size=4))))
    bounds = [0, *cuts, len(value)]
    return [value[a:b] for a, b in itertools.pairwise(bounds)]


usages = st.builds(Usage, *[st.integers(0, 10**7)] * 4)
STOPS = ["end_turn", "stop_sequence", "pause_turn", "max_tokens",
         "model_context_window_exceeded", "tool_use", "refusal"]


@st.composite
def answers(draw: st.DrawFn) -> list[Event]:
    """One well-formed answer: text, thinking and tool_use blocks (inputs valid JSON objects)."""
    events: list[Event] = [MessageStart(draw(ids), "upstream", draw(usages))]
    call_ids = draw(st.lists(ids, max_size=3, unique=True))
    kinds = draw(st.lists(st.sampled_from(["text", "thinking", "redacted"]), max_size=3))
    blocks = draw(st.permutations(kinds + [f"tool:{i}" for i in call_ids]))
    for index, kind in enumerate(blocks):
        if kind == "text":
            events += [BlockStart(index, TextBlock(""))]
            events += [TextDelta(index, t) for t in draw(st.lists(texts, max_size=3))]
        elif kind == "thinking":
            events += [BlockStart(index, ThinkingBlock(""))]
            events += [ThinkingDelta(index, t) for t in draw(st.lists(texts, max_size=3))]
            events += [SignatureDelta(index, draw(texts))]
        elif kind == "redacted":
            events += [BlockStart(index, RedactedThinkingBlock(draw(texts)))]
        else:
            events += [BlockStart(index, ToolUseBlock(kind[5:], draw(ids), {}))]
            pieces = draw(fragments(orjson.dumps(draw(json_objects)).decode()))
            events += [InputJsonDelta(index, p) for p in pieces]
        events += [*draw(st.lists(st.just(Ping()), max_size=1)), BlockStop(index)]
    stop = "tool_use" if call_ids else draw(st.sampled_from(STOPS))
    return [*events, MessageDelta(stop, draw(usages)), MessageStop()]


def summary(response: Response) -> tuple[str, str, list[tuple[str, str, Any]]]:
    text = "".join(b.text for b in response.content if isinstance(b, TextBlock))
    thinking = "".join(b.thinking for b in response.content if isinstance(b, ThinkingBlock))
    calls = [(b.id, b.name, b.input) for b in response.content if isinstance(b, ToolUseBlock)]
    return text, thinking, calls


def render(events: list[Event], options: ChatClientOptions) -> bytes:
    renderer = ChatChunkRenderer("chatcmpl-p", "m", 1, options)
    return renderer.render(events) + renderer.finish()


ROUND_TRIP_STOP = {"stop_sequence": "end_turn", "pause_turn": "end_turn",
                   "model_context_window_exceeded": "max_tokens"}


@PROPERTY
@given(answers(), cut_points)
def test_chunks_parse_back_to_the_same_answer(events: list[Event], cuts: list[int]) -> None:
    parser = ChatStreamParser("msg_p", "m")
    body = render(events, ChatClientOptions(include_usage=True))
    parsed = [e for piece in chunked(body, cuts) for e in parser.feed(piece)] + parser.close()
    original, back = fold(events), fold(parsed)
    assert summary(back) == summary(original)
    stop = original.stop_reason or "end_turn"
    assert back.stop_reason == ROUND_TRIP_STOP.get(stop, stop)
    # the cache-write split has no Chat field: those tokens count as uncached input
    usage = merge_usage(events[0].usage, events[-2].usage)  # type: ignore[union-attr]
    assert back.usage == Usage(usage.input_tokens + usage.cache_creation_input_tokens,
                               usage.output_tokens, 0, usage.cache_read_input_tokens)


# ---- (c) streamed chunks, accumulated, agree with render_completion ---------------------------


def accumulate(body: bytes) -> dict[str, Any]:
    """What a client makes of our chunks: the message, finish_reason and usage."""
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish = usage = None
    for frame in body.split(b"\n\n")[:-1]:
        payload = frame.removeprefix(b"data: ")
        if payload == b"[DONE]":
            break
        chunk = orjson.loads(payload)
        usage = chunk.get("usage", usage)
        for choice in chunk["choices"]:
            delta = choice["delta"]
            content.append(delta.get("content") or "")
            reasoning.append(delta.get("reasoning_content") or "")
            for call in delta.get("tool_calls") or ():
                slot = calls.setdefault(call["index"], {"id": call.get("id"), "name": "",
                                                        "arguments": ""})
                slot["name"] += call["function"].get("name", "")
                slot["arguments"] += call["function"]["arguments"]
            finish = choice["finish_reason"] or finish
    return {"content": "".join(content), "reasoning": "".join(reasoning),
            "calls": [(c["id"], c["name"], orjson.loads(c["arguments"] or "{}"))
                      for _, c in sorted(calls.items())],
            "finish_reason": finish, "usage": usage}


@PROPERTY
@given(answers(), st.booleans())
def test_completion_agrees_with_the_stream(events: list[Event], include_usage: bool) -> None:
    streamed = accumulate(render(events, ChatClientOptions(include_usage=include_usage)))
    whole = render_completion(fold(events), "chatcmpl-p", "m", 1)
    choice = whole["choices"][0]
    message = choice["message"]
    assert (message["content"] or "") == streamed["content"]
    assert message.get("reasoning_content", "") == streamed["reasoning"]
    assert [(c["id"], c["function"]["name"], orjson.loads(c["function"]["arguments"]))
            for c in message.get("tool_calls", ())] == streamed["calls"]
    assert choice["finish_reason"] == streamed["finish_reason"]
    if include_usage:
        usage = dict(whole["usage"])
        assert usage.pop("completion_tokens_details") == {"reasoning_tokens": 0}
        assert usage == streamed["usage"]
    else:
        assert streamed["usage"] is None
