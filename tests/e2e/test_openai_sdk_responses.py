"""The official openai SDK against /v1/responses, incl. previous_response_id from our store."""

from __future__ import annotations

import openai
import pytest
from harness.proxy import proxy
from harness.sdk_clients import track
from harness.wire import Reply, ToolCall

pytestmark = pytest.mark.e2e
DIALECTS = ["openai", "ollama"]
TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather for a city.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]}, "strict": False}]


def client(url: str) -> openai.OpenAI:
    return track(openai.OpenAI(base_url=url + "/v1", api_key="anything", max_retries=0))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_streamed_function_call_then_its_output_on_the_next_turn(dialect: str,
                                                                 tmp_path) -> None:
    script = [Reply(tool_calls=(ToolCall("get_weather", {"city": "Oslo"}, id="call_w"),)),
              Reply(text="It is 3C in Oslo.")]
    with proxy(dialect, script, LYNKR_DB_PATH=str(tmp_path / "lynkr.db")) as (url, fake):
        sdk = client(url)
        with sdk.responses.stream(model="gpt-4.1", input="weather in Oslo?", tools=TOOLS,
                                  instructions="Answer briefly.") as stream:
            kinds = [event.type for event in stream]
            first = stream.get_final_response()
        assert "response.function_call_arguments.delta" in kinds
        assert kinds[-1] == "response.completed"
        [call] = [item for item in first.output if item.type == "function_call"]
        assert call.name == "get_weather" and call.arguments == '{"city":"Oslo"}'
        second = sdk.responses.create(
            model="gpt-4.1", previous_response_id=first.id, tools=TOOLS,
            input=[{"type": "function_call_output", "call_id": call.call_id,
                    "output": '{"temp_c": 3}'}])
    assert second.output_text == "It is 3C in Oslo."
    sent = fake.calls[1].body["messages"]
    assert "weather in Oslo?" in str(sent)  # the stored history came back
    tool_messages = [m for m in sent if m["role"] == "tool"]
    assert tool_messages[0]["content"] == '{"temp_c": 3}'
    assert tool_messages[0]["tool_call_id"] == call.call_id


def test_unknown_previous_response_id_is_a_clear_400(tmp_path) -> None:
    with proxy("openai", [Reply(text="never")], LYNKR_DB_PATH=str(tmp_path / "l.db")) as (
            url, fake), pytest.raises(openai.BadRequestError) as info:
        client(url).responses.create(model="gpt-4.1", input="hi",
                                     previous_response_id="resp_missing")
    assert "resp_missing" in info.value.body["message"]
    assert fake.calls == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_non_streaming_text_answer(dialect: str, tmp_path) -> None:
    with proxy(dialect, [Reply(text="Hi there.")],
               LYNKR_DB_PATH=str(tmp_path / "l.db")) as (url, _):
        response = client(url).responses.create(model="gpt-4.1", input="hi")
    assert response.output_text == "Hi there."
    assert response.status == "completed"
    assert response.usage.output_tokens == 12
