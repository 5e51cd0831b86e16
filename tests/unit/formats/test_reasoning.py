from __future__ import annotations

import pytest

from lynkr.formats.reasoning import Intent, chat_fields, intent, is_foreign, restore, sign, unpack
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
    assert unpack(signature) == ("openai", "because")
    assert is_foreign(signature) and is_foreign("") and not is_foreign("EqQB")
    assert unpack("lynkr:v1:not-base64!") is None
    blocks = [ThinkingBlock("a", sign("openai", "a")), ThinkingBlock("b", sign("other", "b"))]
    assert restore(blocks, "openai") == "a"
    assert restore(blocks, "nobody") is None
