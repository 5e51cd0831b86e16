"""The text of a request that a tokenizer would see, for counting (images at a flat rate)."""

from __future__ import annotations

import orjson

from lynkr.model.content import (
    ImageBlock,
    OpaqueBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.request import Request

IMAGE_TEXT = "x" * 6000  # about 1,500 tokens, Anthropic's figure for a mid-size image


def request_text(request: Request) -> str:
    parts: list[str] = [b.text for b in request.system]
    for message in request.messages:
        for block in message.content:
            parts.append(block_text(block))
    for tool in request.tools:
        parts.append(tool.name)
        parts.append(tool.description)
        parts.append(orjson.dumps(tool.input_schema).decode())
    return "\n".join(parts)


def block_text(block: object) -> str:
    if isinstance(block, TextBlock):
        return block.text
    if isinstance(block, ToolUseBlock):
        return block.name + orjson.dumps(block.input).decode()
    if isinstance(block, ToolResultBlock):
        return "\n".join(block_text(b) for b in block.content)
    if isinstance(block, ThinkingBlock):
        return block.thinking
    if isinstance(block, ImageBlock):
        return IMAGE_TEXT
    if isinstance(block, OpaqueBlock):
        return orjson.dumps(block.raw).decode()
    return ""
