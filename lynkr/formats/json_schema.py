"""Pure edits of a tool's JSON Schema, shared by the stages that slim or filter tools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def strip_keywords(schema: Any, keywords: frozenset[str]) -> Any:
    """``schema`` without ``keywords`` at any depth (property names are never touched)."""
    if isinstance(schema, list):
        return [strip_keywords(s, keywords) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: strip_keywords(v, keywords) for name, v in value.items()}
        else:
            out[key] = strip_keywords(value, keywords)
    return out
