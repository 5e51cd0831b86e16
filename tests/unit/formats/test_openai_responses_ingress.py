"""parse_responses_request: Responses bodies in, canonical Request and client options out."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lynkr.formats.openai_responses.egress import stored_conversation
from lynkr.formats.openai_responses.ingress import (
    ResponsesClientOptions,
    parse_responses_request,
)
from lynkr.formats.openai_responses.tools import ClientTool
from lynkr.formats.reasoning import sign
from lynkr.model import (
    BadRequest,
    ImageBlock,
    Message,
    OpaqueBlock,
    Request,
    Response,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolResultBlock,
    ToolUseBlock,
    Usage,
)

PROPERTY = settings(max_examples=150, deadline=None)


def parse(**fields: Any) -> Request:
    return parse_responses_request({"model": "gpt-5", **fields})[0]


def options(**fields: Any) -> ResponsesClientOptions:
    return parse_responses_request({"model": "gpt-5", "input": "hi", **fields})[1]


def user(*blocks: Any) -> Message:
    return Message("user", tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks))


def assistant(*blocks: Any) -> Message:
    return Message("assistant", tuple(TextBlock(b) if isinstance(b, str) else b for b in blocks))


def call(call_id: str, name: str = "Bash", arguments: str = '{"command":"ls"}') -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


def output(call_id: str, value: Any = "ok") -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": value}


def test_string_input_is_one_user_message_with_defaults() -> None:
    request, opts = parse_responses_request({"model": "gpt-5", "input": "Hello"})
    assert request == Request(model="gpt-5", messages=(user("Hello"),), max_tokens=0)
    assert opts == ResponsesClientOptions()


def test_codex_style_turn() -> None:
    request = parse(
        instructions="You are Codex.",
        input=[
            {"type": "message", "role": "developer",
             "content": [{"type": "input_text", "text": "sandbox: read-only"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ls"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [
                {"type": "summary_text", "text": "Plan."}, {"type": "summary_text", "text": "Go."}],
             "encrypted_content": "sig=="},
            {"type": "message", "role": "assistant",
             "content": [{"type": "output_text", "text": "Listing.", "annotations": []}]},
            call("call_1"), call("call_2", "Read", '{"path":"a"}'),
            output("call_1", "a.txt\nb.txt"),
            output("call_2", [{"type": "input_text", "text": "contents"}]),
            {"role": "user", "content": "thanks"},
        ],
        tools=[{"type": "function", "name": "Bash", "description": "Run.", "strict": False,
                "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}],
        tool_choice="auto", parallel_tool_calls=False, store=False, stream=True,
        max_output_tokens=1000, reasoning={"effort": "medium", "summary": "auto"},
        include=["reasoning.encrypted_content"], prompt_cache_key="abc",
    )
    assert request == Request(
        model="gpt-5",
        system=(TextBlock("You are Codex."), TextBlock("sandbox: read-only")),
        messages=(
            user("ls"),
            assistant(ThinkingBlock("Plan.\n\nGo.", "sig=="), "Listing.",
                      ToolUseBlock("call_1", "Bash", {"command": "ls"}),
                      ToolUseBlock("call_2", "Read", {"path": "a"})),
            user(ToolResultBlock("call_1", (TextBlock("a.txt\nb.txt"),)),
                 ToolResultBlock("call_2", (TextBlock("contents"),)), "thanks"),
        ),
        max_tokens=1000,
        stream=True,
        tools=(Tool("Bash", "Run.", {"type": "object",
                                     "properties": {"command": {"type": "string"}}}),),
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        thinking={"type": "adaptive"},
        extra={"output_config": {"effort": "medium"}},
    )


def test_options_echo_what_the_client_sent() -> None:
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": True}]
    opts = options(
        instructions="sys", previous_response_id="resp_0", store=False, tools=tools,
        tool_choice={"type": "function", "name": "f"}, parallel_tool_calls=False,
        temperature=0.5, top_p=0.9, max_output_tokens=64, metadata={"k": "v"},
        text={"verbosity": "low"}, reasoning={"effort": "low"}, truncation="auto", user="u1",
        include=["reasoning.encrypted_content"],
    )
    assert opts == ResponsesClientOptions(
        previous_response_id="resp_0", store=False, instructions="sys", tools=tuple(tools),
        tool_choice={"type": "function", "name": "f"}, parallel_tool_calls=False,
        temperature=0.5, top_p=0.9, max_output_tokens=64, metadata={"k": "v"},
        text={"format": {"type": "text"}, "verbosity": "low"}, reasoning={"effort": "low"},
        truncation="auto", user="u1", include=("reasoning.encrypted_content",),
        tool_map={"f": ClientTool("function", "f")},
    )
    assert opts.include_encrypted_reasoning


@pytest.mark.parametrize(("fields", "expected"), [
    ({"tool_choice": "required"}, {"type": "any"}),
    ({"tool_choice": "none"}, {"type": "none"}),
    ({"tool_choice": "auto"}, {"type": "auto"}),
    ({"tool_choice": {"type": "function", "name": "f"}}, {"type": "tool", "name": "f"}),
    ({"tool_choice": {"type": "function", "name": "f"}, "parallel_tool_calls": False},
     {"type": "tool", "name": "f", "disable_parallel_tool_use": True}),
    ({"parallel_tool_calls": False}, {"type": "auto", "disable_parallel_tool_use": True}),
    ({"tool_choice": "none", "parallel_tool_calls": False}, {"type": "none"}),
    ({}, None),
])
def test_tool_choice(fields: dict[str, Any], expected: Any) -> None:
    tools = [{"type": "function", "name": "f"}]
    request = parse(input="x", tools=tools, **fields)
    assert request.tool_choice == expected
    assert request.tools == (Tool("f", "", {"type": "object", "properties": {}}),)


def test_tool_choice_without_tools_is_dropped() -> None:
    assert parse(input="x", tool_choice="required").tool_choice is None


@pytest.mark.parametrize(("fields", "thinking", "extra"), [
    ({"reasoning": {"effort": "high"}}, {"type": "adaptive"},
     {"output_config": {"effort": "high"}}),
    ({"reasoning": {"effort": "minimal"}}, {"type": "adaptive"},
     {"output_config": {"effort": "low"}}),
    ({"reasoning": {"effort": "none"}}, None, {}),
    ({"reasoning": {"summary": "auto"}}, None, {}),
    ({"text": {"format": {"type": "json_schema", "name": "out", "strict": True,
                          "schema": {"type": "object"}}}},
     None, {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"},
                                         "name": "out", "strict": True}}}),
    ({"text": {"format": {"type": "json_object"}}}, None,
     {"output_config": {"format": {"type": "json_object"}}}),
    ({"reasoning": {"effort": "low"}, "text": {"format": {"type": "json_schema", "name": "o",
                                                          "schema": {}}}},
     {"type": "adaptive"},
     {"output_config": {"effort": "low", "format": {"type": "json_schema", "schema": {},
                                                    "name": "o"}}}),
])
def test_reasoning_and_text_format(fields: dict[str, Any], thinking: Any, extra: Any) -> None:
    request = parse(input="x", **fields)
    assert (request.thinking, dict(request.extra)) == (thinking, extra)


def test_sampling_and_user() -> None:
    request = parse(input="x", temperature=0.2, top_p=1, user="u", unknown_field=[1],
                    safety_identifier="s", service_tier="auto", truncation="auto")
    assert (request.temperature, request.top_p, request.metadata) == (0.2, 1, {"user_id": "u"})
    assert request.extra == {}


@pytest.mark.parametrize(("part", "block"), [
    ({"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "auto"},
     ImageBlock({"type": "base64", "media_type": "image/png", "data": "iVBOR"})),
    ({"type": "input_image", "image_url": "https://x.test/a.jpg"},
     ImageBlock({"type": "url", "url": "https://x.test/a.jpg"})),
    ({"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JV"},
     OpaqueBlock("document", {"type": "document", "title": "a.pdf", "source": {
         "type": "base64", "media_type": "application/pdf", "data": "JV"}})),
    ({"type": "input_file", "file_url": "https://x.test/a.pdf"},
     OpaqueBlock("document", {"type": "document",
                              "source": {"type": "url", "url": "https://x.test/a.pdf"}})),
    ({"type": "input_file", "file_id": "file_1"},
     OpaqueBlock("input_file", {"type": "input_file", "file_id": "file_1"})),
    ({"type": "refusal", "refusal": "No."}, TextBlock("No.")),
    ({"type": "output_text", "text": "t", "annotations": []}, TextBlock("t")),
])
def test_content_parts(part: dict[str, Any], block: Any) -> None:
    assert parse(input=[{"role": "user", "content": [part]}]).messages == (user(block),)


def test_function_output_parts_and_empty_output() -> None:
    image = {"type": "input_image", "image_url": "data:image/gif;base64,R0"}
    request = parse(input=[call("c1"), call("c2"), output("c1", [image]), output("c2", "")])
    assert request.messages == (
        assistant(ToolUseBlock("c1", "Bash", {"command": "ls"}),
                  ToolUseBlock("c2", "Bash", {"command": "ls"})),
        user(ToolResultBlock("c1", (ImageBlock({"type": "base64", "media_type": "image/gif",
                                                "data": "R0"}),)),
             ToolResultBlock("c2", ())),
    )


def test_arguments_repaired_or_empty() -> None:
    request = parse(input=[call("c1", arguments='{"a": [1, 2'), call("c2", arguments=""),
                           output("c1"), output("c2")])
    assert request.messages[0].content == (ToolUseBlock("c1", "Bash", {"a": [1, 2]}),
                                           ToolUseBlock("c2", "Bash", {}))


def test_later_system_items_stay_in_place_and_users_do_not_merge() -> None:
    request = parse(input=[
        {"role": "system", "content": "first"}, {"role": "user", "content": "a"},
        {"role": "developer", "content": [{"type": "input_text", "text": "mid"}]},
        {"role": "user", "content": "b"}, {"role": "user", "content": "c"},
    ])
    assert request.system == (TextBlock("first"),)
    assert request.messages == (user("a"), Message("system", (TextBlock("mid"),)), user("b"),
                                user("c"))


def test_output_after_user_text_still_comes_first() -> None:
    request = parse(input=[call("c1"), {"role": "user", "content": "interrupt"}, output("c1")])
    assert request.messages[1] == user(ToolResultBlock("c1", (TextBlock("ok"),)), "interrupt")


def test_reasoning_items() -> None:
    request = parse(input=[
        {"role": "user", "content": "q"},
        {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "r"}]},
        {"type": "reasoning", "summary": []},  # nothing to carry: dropped
        {"type": "reasoning", "summary": [], "encrypted_content": "enc"},
        {"role": "assistant", "content": "a"},
    ])
    # readable reasoning without encrypted_content goes back like a chat client's echo
    echoed = ThinkingBlock("r", sign("*", {"reasoning_content": "r"}))
    assert request.messages[1] == assistant(echoed, ThinkingBlock("", "enc"), "a")


def test_history_is_prepended_and_its_system_lifted() -> None:
    history = (Message("system", (TextBlock("dev rule"),)), user("q1"),
               assistant(ToolUseBlock("c1", "Bash", {})))
    request, opts = parse_responses_request(
        {"model": "m", "instructions": "new", "previous_response_id": "resp_1",
         "input": [output("c1"), {"role": "developer", "content": "late"}]}, history)
    assert request.system == (TextBlock("new"), TextBlock("dev rule"))
    assert request.messages == (user("q1"), assistant(ToolUseBlock("c1", "Bash", {})),
                                user(ToolResultBlock("c1", (TextBlock("ok"),))),
                                Message("system", (TextBlock("late"),)))
    assert opts.input_system == (TextBlock("dev rule"),)


def test_stored_conversation_continues_with_the_same_system() -> None:
    request, opts = parse_responses_request({"model": "m", "instructions": "not carried",
                                             "input": [{"role": "developer", "content": "d"},
                                                       {"role": "user", "content": "q"}]})
    answer = Response("r", "m", (TextBlock("a"), TextBlock("")), "end_turn", Usage())
    history = stored_conversation(request, opts, answer)
    assert history == (Message("system", (TextBlock("d"),)), user("q"), assistant("a"))
    follow, _ = parse_responses_request({"model": "m", "input": "next"}, history)
    assert follow.system == (TextBlock("d"),)
    assert follow.messages == (user("q"), assistant("a"), user("next"))


@pytest.mark.parametrize(("body", "message"), [
    ({"input": "x"}, "model: field required"),
    ({"model": "", "input": "x"}, "model: must not be empty"),
    ({"model": "m"}, "input: field required"),
    ({"model": "m", "input": 3}, "input: expected a string or an array of input items, got number"),
    ({"model": "m", "input": [{"role": "user", "content": "a"}, "x"]},
     "input.1: expected an input item object, got string"),
    ({"model": "m", "input": [{"role": "user", "content": "a"}, call("c"), call("c"),
                              {"type": "function_call", "call_id": 7, "name": "f"}]},
     "input.3.call_id: expected a string, got number"),
    ({"model": "m", "input": [{"type": "function_call", "call_id": "c"}]},
     "input.0.name: field required"),
    ({"model": "m", "input": [{"type": "function_call_output", "call_id": "c"}]},
     "input.0.output: field required"),
    ({"model": "m", "input": [{"role": "tool", "content": "a"}]},
     "input.0.role: expected 'user', 'assistant', 'system' or 'developer', got 'tool'"),
    ({"model": "m", "input": [{"role": "user", "content": [{"type": "input_audio"}]}]},
     "input.0.content.0.type: content part type 'input_audio' is not supported"),
    ({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]},
     "input.0: item references are not supported"),
    ({"model": "m", "input": [{"id": "msg_1"}]}, "input.0: item references are not supported"),
    ({"model": "m", "input": [42]}, "input.0: expected an input item object, got number"),
    ({"model": "m", "input": [{"type": 7}]}, "input.0.type: expected a string, got number"),
    ({"model": "m", "input": [{"type": "custom_tool_call", "call_id": "c", "name": "p",
                               "input": {}}]}, "input.0.input: expected a string, got object"),
    ({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "file_id": "file_1", "detail": "auto"}]}]},
     "input.0.content.0.file_id: images by file id are not supported"),
    ({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "image_url": "data:image/png,abc"}]}]},
     "input.0.content.0.image_url: expected a base64 data URL"),
    ({"model": "m", "input": [{"role": "system", "content": [
        {"type": "input_image", "image_url": "https://x.test/i.png"}]}]},
     "input.0.content: system messages take text parts only"),
    ({"model": "m", "input": [{"type": "reasoning", "summary": [{"type": "summary_text"}]}]},
     "input.0.summary.0.text: field required"),
    ({"model": "m", "input": "x", "tools": [{"type": "custom"}]}, "tools.0.name: field required"),
    ({"model": "m", "input": "x", "tools": [{"type": "namespace", "name": "n", "tools": [
        {"type": "namespace", "name": "m"}]}]}, "tools.0.tools.0: namespaces do not nest"),
    ({"model": "m", "input": "x", "tools": [{"type": "function"}]}, "tools.0.name: field required"),
    ({"model": "m", "input": "x", "tools": [{"type": "function", "name": "f",
                                             "parameters": []}]},
     "tools.0.parameters: expected an object, got array"),
    ({"model": "m", "input": "x", "tool_choice": "any"},
     "tool_choice: expected 'auto', 'required' or 'none', got 'any'"),
    ({"model": "m", "input": "x", "tools": [{"type": "web_search_preview"}],
      "tool_choice": {"type": "web_search_preview"}},
     "tool_choice.type: the client requires the hosted tool 'web_search_preview'"),
    ({"model": "m", "input": "x", "max_output_tokens": "9"},
     "max_output_tokens: expected an integer, got string"),
    ({"model": "m", "input": "x", "max_output_tokens": 0}, "max_output_tokens: must be at least 1"),
    ({"model": "m", "input": "x", "stream": "yes"}, "stream: expected a boolean, got string"),
    ({"model": "m", "input": "x", "temperature": True}, "temperature: expected a number"),
    ({"model": "m", "input": "x", "reasoning": {"effort": "extreme"}},
     "reasoning.effort: unknown effort 'extreme'"),
    ({"model": "m", "input": "x", "text": {"format": {"type": "json_schema", "name": "n"}}},
     "text.format.schema: field required"),
    ({"model": "m", "input": "x", "conversation": "conv_1"},
     "conversation: server-side conversations are not supported"),
    ({"model": "m", "prompt": {"id": "pmpt_1"}}, "prompt: stored prompt templates are not"),
    ({"model": "m", "input": "x", "background": True}, "background: background responses"),
    ({"model": "m", "input": "x", "include": [1]}, "include.0: expected a string, got number"),
])
def test_bad_requests_name_their_path(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_responses_request(body)
    assert info.value.message.startswith(message), info.value.message


# ---- property: every generated function_call is answered in the next user message ----------

texts = st.text(max_size=12)
call_ids = st.text("abcXYZ019_-", min_size=1, max_size=6)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """User turns, and assistant turns with reasoning, text and calls answered in any order."""
    items: list[dict[str, Any]] = []
    taken: set[str] = set()
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            items.append({"role": "developer", "content": draw(texts)})
        items.append({"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": draw(texts)}]})
        if draw(st.booleans()):
            items.append({"type": "reasoning", "summary": [
                {"type": "summary_text", "text": draw(texts)}], "encrypted_content": "e"})
        if draw(st.booleans()):
            items.append({"role": "assistant", "content": draw(texts)})
        ids = draw(st.lists(call_ids.filter(lambda i: i not in taken), max_size=3, unique=True))
        taken.update(ids)
        items.extend(call(i, arguments=draw(st.sampled_from(['{"a":1}', "", '{"b":'])))
                     for i in ids)
        items.extend(output(i, draw(texts)) for i in draw(st.permutations(ids)))
        if ids and draw(st.booleans()):
            items.append({"role": "user", "content": draw(texts)})
    return items


@PROPERTY
@given(conversations())
def test_every_call_has_its_result_in_the_next_user_message(items: list[dict[str, Any]]) -> None:
    request = parse(input=items)
    messages = request.messages
    for i, message in enumerate(messages):
        assert message.content
        uses = [b.id for b in message.content if isinstance(b, ToolUseBlock)]
        if uses:
            assert message.role == "assistant"
            following = messages[i + 1]
            assert following.role == "user"
            results = [b.tool_use_id for b in following.content if isinstance(b, ToolResultBlock)]
            assert sorted(results) == sorted(uses)
            leading = following.content[: len(results)]
            assert all(isinstance(b, ToolResultBlock) for b in leading)
        if message.role == "assistant" and i > 0:
            assert messages[i - 1].role != "assistant"
    n_calls = sum(1 for item in items if item.get("type") == "function_call")
    assert n_calls == sum(isinstance(b, ToolUseBlock) for m in messages for b in m.content)
