"""Shared bits of the provider integration tests: a Claude Code-like body and a JSON turn."""

from __future__ import annotations

from typing import Any

import httpx

CLAUDE_CODE_BETAS = ("claude-code-20250219,interleaved-thinking-2025-05-14,"
                     "context-management-2025-06-27,effort-2025-11-24")
TOOLS = [{"name": "Bash", "description": "Run a command.",
          "input_schema": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "type": "object", "properties": {"command": {"type": "string"}},
                           "required": ["command"]}}]


def claude_body(messages: list[dict[str, Any]] | None = None, **overrides: Any
                ) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-opus-5-5", "max_tokens": 128000, "stream": True,
        "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
                   {"type": "text", "text": "You are careful.",
                    "cache_control": {"type": "ephemeral"}}],
        "messages": messages or [{"role": "user", "content": [
            {"type": "text", "text": "say hi", "cache_control": {"type": "ephemeral"}}]}],
        "tools": TOOLS,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "metadata": {"user_id": "{\"device_id\":\"abc\"}"},
    }
    body.update(overrides)
    return body


def post_json(url: str, body: dict[str, Any], betas: str = CLAUDE_CODE_BETAS
              ) -> httpx.Response:
    headers = {"x-api-key": "dummy", "anthropic-version": "2023-06-01", "anthropic-beta": betas}
    with httpx.Client(timeout=30) as client:
        return client.post(url + "/v1/messages?beta=true", json={**body, "stream": False},
                           headers=headers)
