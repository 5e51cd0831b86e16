"""Structured output: the canonical ``output_config.format`` in each backend's own field.

The canonical form is Anthropic's ``output_config.format`` (``{"type": "json_schema",
"schema": ...}``), widened by the OpenAI ingresses with an optional ``name`` and ``strict`` and
with
``{"type": "json_object"}`` (any JSON object, no schema). Each function says what one backend
gets for it, or None when it has no equivalent (the capability filter then says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from lynkr.model.request import Request

__all__ = ["SUPPORTED", "anthropic_format", "bedrock_output_config", "chat_response_format",
           "ollama_format", "output_format"]

# family -> the output format types it has an equivalent for
SUPPORTED = {"openai": ("json_schema", "json_object"), "ollama": ("json_schema", "json_object"),
             "anthropic": ("json_schema",), "bedrock": ("json_schema",)}


def output_format(request: Request) -> Mapping[str, Any] | None:
    config = request.extra.get("output_config")
    fmt = config.get("format") if isinstance(config, Mapping) else None
    return fmt if isinstance(fmt, Mapping) and fmt.get("type") else None


def chat_response_format(fmt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI-compatible ``response_format`` (``json_schema`` needs a name: "response")."""
    if fmt is None:
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") != "json_schema":
        return None
    spec = {"name": fmt.get("name") or "response", "schema": fmt.get("schema") or {}}
    if isinstance(fmt.get("strict"), bool):
        spec["strict"] = fmt["strict"]
    return {"type": "json_schema", "json_schema": spec}


def ollama_format(fmt: Mapping[str, Any] | None) -> Any:
    """Ollama's ``format``: the JSON schema itself, or "json" for any JSON object."""
    if fmt is None:
        return None
    if fmt.get("type") == "json_object":
        return "json"
    return fmt.get("schema") or None if fmt.get("type") == "json_schema" else None


def anthropic_format(fmt: Mapping[str, Any]) -> dict[str, Any] | None:
    """Anthropic's own shape (no ``name``); None for ``json_object``, which it lacks."""
    if fmt.get("type") != "json_schema":
        return None
    return {"type": "json_schema", "schema": fmt.get("schema") or {}}


def bedrock_output_config(fmt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Bedrock Converse's ``outputConfig``: the schema as a JSON string, under a name."""
    if fmt is None or fmt.get("type") != "json_schema":
        return None
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
        "name": fmt.get("name") or "response",
        "schema": orjson.dumps(fmt.get("schema") or {}).decode()}}}}
