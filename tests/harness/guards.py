"""Request guards for the fake model: what strict backends reject."""

from __future__ import annotations

from typing import Any

from harness.fake_model import Guard


def needs_reasoning_back(*fields: str) -> Guard:
    """A reasoning backend (DeepSeek, vLLM/SGLang parsers, OpenRouter, Ollama) that answers 400
    to an assistant tool-call turn sent back without its reasoning in ``fields``."""
    wanted = fields or ("reasoning_content",)

    def guard(path: str, query: str, headers: dict[str, str], body: dict[str, Any]
              ) -> tuple[int, Any] | None:
        for n, message in enumerate(body.get("messages") or ()):
            if message.get("role") == "assistant" and message.get("tool_calls"):
                missing = [f for f in wanted if not message.get(f)]
                if missing:
                    return 400, {"error": {"message": f"messages.{n}: Missing `{missing[0]}` "
                                           "field in the assistant message",
                                           "type": "invalid_request_error"}}
        return None

    return guard
