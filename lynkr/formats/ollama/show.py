"""Ollama's ``POST /api/show``: what a model can do (``capabilities``: ``completion``, ``tools``,
``vision``, ``thinking``, ...). Ollama versions before the field answer without it: unknown."""

from __future__ import annotations

from typing import Any


def show_body(model: str) -> dict[str, str]:
    return {"model": model}


def capabilities(body: Any) -> frozenset[str] | None:
    """The model's capabilities, or None when the answer does not list them."""
    listed = body.get("capabilities") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        return None
    return frozenset(c for c in listed if isinstance(c, str))


def supports_tools(body: Any) -> bool | None:
    found = capabilities(body)
    return None if found is None else "tools" in found
