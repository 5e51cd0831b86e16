"""The message inside an upstream's error body, whatever its dialect."""

from __future__ import annotations

from typing import Any

import orjson


def error_message(body: bytes, limit: int = 500) -> str:
    """OpenAI ``{"error":{"message"}}``, Ollama ``{"error":"..."}``, Anthropic, Databricks
    ``{"message"}`` or AWS ``{"Message"}``; else the body's text, cut to ``limit``."""
    try:
        obj: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()
        return text[:limit] or "(empty body)"
    found = find_message(obj)
    return (found or body.decode("utf-8", "replace"))[:limit]


def find_message(obj: Any) -> str | None:
    if isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):
        return None
    for key in ("error", "message", "Message", "detail"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            inner = find_message(value)
            if inner:
                return inner
    return None
