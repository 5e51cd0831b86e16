"""An MCP tool result as the text a model reads.

Assumes: a ``CallToolResult`` from the SDK (content blocks, maybe structured content).
Guarantees: text blocks verbatim, in order; other blocks as one short line each (an image or
audio block by its type and size, a resource by its URI, an embedded text resource by its
text); structured content as JSON when no block carries text; the whole cut to ``limit``
characters with a note saying how much was left out.
Never: drops a result silently: an empty one says it is empty.
"""

from __future__ import annotations

import json

from mcp import types


def _block(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        return f"[{kind} {block.mimeType}, {len(block.data) * 3 // 4} bytes]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return resource.text
        return f"[resource {resource.uri} ({resource.mimeType or 'binary'})]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}: {block.name}]"
    return f"[{getattr(block, 'type', 'unknown')} content]"


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n[... {len(text) - limit} more characters cut by Lynkr "
        f"(MCP_MAX_OUTPUT_CHARS={limit})]"
    )


def render(result: types.CallToolResult, limit: int) -> str:
    parts = [_block(b) for b in result.content]
    if result.structuredContent is not None and not any(
        isinstance(b, types.TextContent) for b in result.content
    ):
        parts.append(json.dumps(result.structuredContent, ensure_ascii=False))
    text = "\n".join(parts)
    return clip(text if text else "(the tool returned no content)", limit)
