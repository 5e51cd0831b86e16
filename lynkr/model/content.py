"""Content blocks of messages, system prompts and tool results.

The common block kinds are typed; every other kind (document, search_result, server tool
blocks, tool_reference, ...) is an ``OpaqueBlock`` that keeps its JSON object whole, so that it
reaches Anthropic-dialect upstreams untouched and translated upstreams can decide what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

JSON = Any
EMPTY: Mapping[str, Any] = {}


@attrs.frozen
class TextBlock:
    text: str
    cache_control: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = EMPTY  # citations and future fields, passed through


@attrs.frozen
class ImageBlock:
    """``source`` is Anthropic's: {type: base64, media_type, data} or {type: url, url}."""

    source: Mapping[str, Any]
    cache_control: Mapping[str, Any] | None = None


@attrs.frozen
class ToolUseBlock:
    id: str
    name: str
    input: Mapping[str, Any]
    cache_control: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = EMPTY


@attrs.frozen
class ToolResultBlock:
    """``content`` is a tuple of blocks (a string result is one TextBlock)."""

    tool_use_id: str
    content: tuple[Block, ...] = ()
    is_error: bool = False
    cache_control: Mapping[str, Any] | None = None

    def text(self) -> str:
        """The result flattened to text: text blocks joined, other kinds named."""
        parts: list[str] = []
        for block in self.content:
            if isinstance(block, TextBlock):
                parts.append(block.text)
            elif isinstance(block, OpaqueBlock) and block.type == "tool_reference":
                parts.append(f"[tool: {block.raw.get('tool_name', '')}]")
            elif isinstance(block, OpaqueBlock) and block.type == "search_result":
                inner = block.raw.get("content") or ()
                texts = [c.get("text", "") for c in inner if isinstance(c, Mapping)]
                parts.append("\n".join([str(block.raw.get("title", "")), *texts]))
            elif isinstance(block, ImageBlock):
                parts.append("[image]")
            else:
                parts.append(f"[{getattr(block, 'type', 'content')}]")
        return "\n".join(parts)


@attrs.frozen
class ThinkingBlock:
    thinking: str
    signature: str = ""


@attrs.frozen
class RedactedThinkingBlock:
    data: str


@attrs.frozen
class OpaqueBlock:
    """Any block kind the canonical model does not type; ``raw`` is its whole JSON object."""

    type: str
    raw: Mapping[str, Any]


Block = (
    TextBlock
    | ImageBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | OpaqueBlock
)
