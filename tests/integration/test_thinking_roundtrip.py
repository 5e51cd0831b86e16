"""Reasoning state across turns: a DeepSeek-style backend (OpenAI dialect, ``reasoning_content``)
that rejects a tool-call turn sent back without its reasoning. Lynkr carries the reasoning in
the thinking block's signature, which the client returns untouched, and restores it."""

from __future__ import annotations

from typing import Any

import pytest
from harness.guards import needs_reasoning_back
from harness.proxy import proxy
from harness.wire import Reply, ToolCall
from provider_helpers import claude_body, post_json

from lynkr.formats.reasoning import unpack

REASONING = ["I should list the files first.", "Now read the file.", "Done thinking."]


def script(body: dict[str, Any]) -> Reply:
    step = sum(1 for m in body["messages"] if m["role"] == "assistant")
    if step == 0:
        return Reply(thinking=REASONING[0], tool_calls=(ToolCall("Bash", {"command": "ls"},
                                                                 id="call_a"),))
    if step == 1:
        return Reply(thinking=REASONING[1], tool_calls=(ToolCall("Bash", {"command": "cat x"},
                                                                 id="call_b"),))
    return Reply(thinking=REASONING[2], text="x holds 42.")


def conversation(url: str) -> list[dict[str, Any]]:
    """Three client turns, each sending back the answers exactly as a client keeps them."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "what is in x?"}]
    answers = []
    for result in ("x", "42"):
        response = post_json(url, claude_body(messages))
        assert response.status_code == 200, response.text
        answer = response.json()
        answers.append(answer)
        [use] = [b for b in answer["content"] if b["type"] == "tool_use"]
        messages += [{"role": "assistant", "content": answer["content"]},
                     {"role": "user", "content": [{"type": "tool_result",
                                                   "tool_use_id": use["id"],
                                                   "content": result}]}]
    response = post_json(url, claude_body(messages))
    assert response.status_code == 200, response.text
    return [*answers, response.json()]


def test_reasoning_survives_three_turns() -> None:
    with proxy("openai", script, guard=needs_reasoning_back()) as (url, fake):  # on by default
        answers = conversation(url)
    assert [c for c in fake.calls if c.body] and len(fake.calls) == 3
    for n, answer in enumerate(answers):
        thinking = answer["content"][0]
        assert thinking["type"] == "thinking" and thinking["thinking"] == REASONING[n]
        assert unpack(thinking["signature"]) == ("openai", {"reasoning_content": REASONING[n]})
    assert answers[2]["content"][1] == {"type": "text", "text": "x holds 42."}
    third = fake.calls[2].body["messages"]
    echoed = [m["reasoning_content"] for m in third if m["role"] == "assistant"]
    assert echoed == REASONING[:2]
    assert fake.rejected == []


def test_with_the_echo_turned_off_the_backend_rejects_the_second_turn() -> None:
    with proxy("openai", script, guard=needs_reasoning_back(), OPENAI_ECHO_REASONING="false"
               ) as (url, fake), pytest.raises(AssertionError, match="reasoning_content"):
        conversation(url)
    assert fake.rejected and fake.rejected[0][0] == 400


def test_reasoning_of_another_provider_is_not_echoed() -> None:
    def foreign_script(body: dict[str, Any]) -> Reply:
        return Reply(text="fine")

    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "t", "signature": "lynkr:v1:" + "e30="},
            {"type": "text", "text": "hello"}]},
        {"role": "user", "content": "again"},
    ]
    with proxy("openai", foreign_script, OPENAI_ECHO_REASONING="true") as (url, fake):
        assert post_json(url, claude_body(history)).status_code == 200
    assert all("reasoning_content" not in m for m in fake.calls[0].body["messages"])
