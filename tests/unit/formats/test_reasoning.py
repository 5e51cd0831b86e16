from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from lynkr.formats.reasoning import (
    Intent,
    chat_fields,
    details_text,
    echo_by_default,
    intent,
    is_foreign,
    merge_details,
    restore,
    sign,
    unpack,
)
from lynkr.model.content import ThinkingBlock


@pytest.mark.parametrize(("thinking", "expected"), [
    (None, None),
    ({"type": "disabled"}, Intent(False)),
    ({"type": "enabled", "budget_tokens": 2048}, Intent(True, "low", 2048)),
    ({"type": "enabled", "budget_tokens": 32000}, Intent(True, "high", 32000)),
    ({"type": "adaptive", "effort": "max"}, Intent(True, "high")),
    ({"type": "adaptive", "effort": "medium"}, Intent(True, "medium")),
])
def test_intent(thinking: dict | None, expected: Intent | None) -> None:
    assert intent(thinking) == expected


@pytest.mark.parametrize(("control", "want", "expected"), [
    ("reasoning_effort", Intent(True, "low"), {"reasoning_effort": "low"}),
    ("reasoning_effort", Intent(False), {}),
    ("openrouter", Intent(True, "high", 5000), {"reasoning": {"max_tokens": 5000}}),
    ("openrouter", Intent(True, "high"), {"reasoning": {"effort": "high"}}),
    ("enable_thinking", Intent(False), {"chat_template_kwargs": {"enable_thinking": False}}),
    ("databricks", Intent(True, "high"), {"thinking": {"type": "enabled",
                                                       "budget_tokens": 9999}}),
    ("", Intent(True), {}),
])
def test_chat_fields(control: str, want: Intent, expected: dict) -> None:
    assert chat_fields(control, want, 10000) == expected


def test_signature_round_trip() -> None:
    signature = sign("openai", "because")
    assert unpack(signature) == ("openai", {"reasoning_content": "because"})
    assert is_foreign(signature) and is_foreign("") and not is_foreign("EqQB")
    assert unpack("lynkr:v1:not-base64!") is None
    blocks = [ThinkingBlock("a", sign("openai", "a")), ThinkingBlock("b", sign("other", "b"))]
    assert restore(blocks, "openai") == {"reasoning_content": "a"}
    assert restore(blocks, "nobody") == {}


def test_first_signature_format_still_unpacks() -> None:
    old = "lynkr:v1:" + base64.b64encode(
        orjson.dumps({"provider": "deepseek", "reasoning_content": "r"})).decode()
    assert unpack(old) == ("deepseek", {"reasoning_content": "r"})


@pytest.mark.parametrize("fields", [
    {"reasoning_content": "why"},
    {"reasoning": "why", "reasoning_details": [{"type": "reasoning.text", "text": "why"}]},
    {"thinking": "why"},
])
def test_each_field_comes_back_as_it_went(fields: dict[str, Any]) -> None:
    blocks = [ThinkingBlock("why", sign("p", fields))]
    assert restore(blocks, "p") == fields


def test_fields_of_several_blocks_are_joined_and_unknown_fields_never_restored() -> None:
    blocks = [ThinkingBlock("", sign("p", {"reasoning": "a", "reasoning_details": [{"i": 1}],
                                           "content": "not a reasoning field"})),
              ThinkingBlock("", sign("p", {"reasoning": "b", "reasoning_details": [{"i": 2}]}))]
    assert restore(blocks, "p") == {"reasoning": "ab",
                                    "reasoning_details": [{"i": 1}, {"i": 2}]}


def test_streamed_details_merge_by_type_and_index() -> None:
    details: list[Any] = []
    merge_details(details, [{"type": "reasoning.text", "index": 0, "text": "Th",
                             "format": "x"}])
    merge_details(details, [{"type": "reasoning.text", "index": 0, "text": "ink",
                             "signature": None}])
    merge_details(details, [{"type": "reasoning.encrypted", "index": 1, "data": "e1"},
                            {"type": "reasoning.encrypted", "index": 1, "data": "e2"}])
    assert details == [{"type": "reasoning.text", "index": 0, "text": "Think", "format": "x"},
                       {"type": "reasoning.encrypted", "index": 1, "data": "e1e2"}]
    assert details_text(details) == "Think"


def test_echo_is_on_by_default_for_every_host() -> None:
    assert echo_by_default("openai", "http://127.0.0.1:8000/v1/chat/completions")
    assert echo_by_default("ollama", "http://localhost:11434/api/chat")
