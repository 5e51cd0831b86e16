"""Anthropic content blocks ⇄ canonical blocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynkr.formats.jsonvalue import required, want
from lynkr.model.content import (
    EMPTY,
    Block,
    ImageBlock,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.errors import BadRequest

_TEXT_KEYS = frozenset(("type", "text", "cache_control"))
_TOOL_USE_KEYS = frozenset(("type", "id", "name", "input", "cache_control"))


def parse_content(value: Any, path: str) -> tuple[Block, ...]:
    """A message's content: a string (one text block) or an array of blocks."""
    if isinstance(value, str):
        return (TextBlock(value),)
    items = want(list, value, path, "a string or an array of content blocks")
    return tuple(parse_block(item, f"{path}.{i}") for i, item in enumerate(items))


def _image_source(raw: Any, path: str) -> dict[str, Any]:
    """An image source; a ``url`` one must be http(s) and a ``base64`` one carry a string
    (other kinds, such as ``file``, pass as they are)."""
    source = want(dict, raw, path, "an object")
    kind = source.get("type")
    if kind == "url":
        url = want(str, required(source, "url", path + "."), path + ".url", "a string")
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"{path}.url: expected an http(s) URL")
    elif kind == "base64":
        want(str, required(source, "data", path + "."), path + ".data", "a string")
    return source


def parse_block(raw: Any, path: str) -> Block:
    obj = want(dict, raw, path, "a content block object")
    kind = want(str, required(obj, "type", path + "."), path + ".type", "a string")
    cache = obj.get("cache_control")
    if kind == "text":
        text = want(str, required(obj, "text", path + "."), path + ".text", "a string")
        extra = {k: v for k, v in obj.items() if k not in _TEXT_KEYS} if len(obj) > 2 else EMPTY
        return TextBlock(text, cache, extra or EMPTY)
    if kind == "image":
        return ImageBlock(_image_source(required(obj, "source", path + "."), path + ".source"),
                          cache)
    if kind == "tool_use":
        extra = {k: v for k, v in obj.items() if k not in _TOOL_USE_KEYS}
        return ToolUseBlock(
            want(str, required(obj, "id", path + "."), path + ".id", "a string"),
            want(str, required(obj, "name", path + "."), path + ".name", "a string"),
            want(dict, obj.get("input", {}), path + ".input", "an object"),
            cache,
            extra or EMPTY,
        )
    if kind == "tool_result":
        content = obj.get("content")
        blocks = () if content is None else parse_content(content, path + ".content")
        return ToolResultBlock(
            want(str, required(obj, "tool_use_id", path + "."), path + ".tool_use_id",
                 "a string"),
            blocks,
            bool(obj.get("is_error", False)),
            cache,
        )
    if kind == "thinking":
        return ThinkingBlock(
            want(str, obj.get("thinking", ""), path + ".thinking", "a string"),
            want(str, obj.get("signature", ""), path + ".signature", "a string"),
        )
    if kind == "redacted_thinking":
        return RedactedThinkingBlock(want(str, obj.get("data", ""), path + ".data", "a string"))
    return OpaqueBlock(kind, obj)


def render_block(block: Block) -> dict[str, Any]:
    """A canonical block as an Anthropic JSON object."""
    out: dict[str, Any]
    if isinstance(block, TextBlock):
        out = {"type": "text", "text": block.text, **block.extra}
    elif isinstance(block, ToolUseBlock):
        out = {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input,
               **block.extra}
    elif isinstance(block, ToolResultBlock):
        out = {"type": "tool_result", "tool_use_id": block.tool_use_id,
               "content": [render_block(b) for b in block.content]}
        if block.is_error:
            out["is_error"] = True
    elif isinstance(block, ImageBlock):
        out = {"type": "image", "source": block.source}
    elif isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    elif isinstance(block, RedactedThinkingBlock):
        return {"type": "redacted_thinking", "data": block.data}
    else:
        return dict(block.raw)
    cache = block.cache_control
    if cache is not None:
        out["cache_control"] = cache
    return out


def start_block(block: Block) -> Mapping[str, Any]:
    """The ``content_block`` of a content_block_start event."""
    if isinstance(block, TextBlock):
        return {"type": "text", "text": ""}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
    if isinstance(block, ThinkingBlock):
        return {"type": "thinking", "thinking": "", "signature": ""}
    return render_block(block)
