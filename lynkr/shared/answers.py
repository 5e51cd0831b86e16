"""Whole answers in Redis: the ``ResponseCache`` port shared by every process, and the JSON
codec of the answers it keeps.

Assumes: ``Link`` for I/O; only answers ``prompt_cache`` deems cacheable are stored (text,
thinking and redacted thinking blocks: ``cacheable_response``).
Guarantees: an answer is one key with the cache's TTL as its expiry (``SET ... PX``), so every
process sees it, and a process restart loses nothing; an entry that does not decode (written
by another version) is a miss. Reads wait for Redis (``get`` is awaited); writes go in the
background. While Redis is unreachable the in-process ``MemoryCache`` answers (and is written
too), so a cache hit within one process still works.
Never: unpickles anything (the codec is JSON and three block types), or fails a request
because Redis is down.
"""

from __future__ import annotations

from typing import Any

import orjson

from lynkr.cache.memory import MemoryCache
from lynkr.model.content import RedactedThinkingBlock, TextBlock, ThinkingBlock
from lynkr.model.events import Usage
from lynkr.model.response import Response
from lynkr.shared.link import Link, Unavailable


def encode_answer(response: Response) -> bytes | None:
    """JSON for a cacheable answer; None for one with another kind of block."""
    blocks: list[dict[str, Any]] = []
    for block in response.content:
        if isinstance(block, TextBlock):
            blocks.append({"type": "text", "text": block.text, "extra": dict(block.extra)})
        elif isinstance(block, ThinkingBlock):
            blocks.append(
                {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
            )
        elif isinstance(block, RedactedThinkingBlock):
            blocks.append({"type": "redacted_thinking", "data": block.data})
        else:
            return None
    usage = response.usage
    return orjson.dumps(
        {
            "id": response.id,
            "model": response.model,
            "content": blocks,
            "stop_reason": response.stop_reason,
            "stop_sequence": response.stop_sequence,
            "usage": [
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
            ],
        }
    )


def decode_answer(data: bytes) -> Response | None:
    try:
        raw = orjson.loads(data)
        blocks: list[TextBlock | ThinkingBlock | RedactedThinkingBlock] = []
        for block in raw["content"]:
            kind = block["type"]
            if kind == "text":
                blocks.append(TextBlock(block["text"], extra=block.get("extra") or {}))
            elif kind == "thinking":
                blocks.append(ThinkingBlock(block["thinking"], block.get("signature", "")))
            elif kind == "redacted_thinking":
                blocks.append(RedactedThinkingBlock(block["data"]))
            else:
                return None
        return Response(
            raw["id"],
            raw["model"],
            tuple(blocks),
            raw["stop_reason"],
            Usage(*(int(n) for n in raw["usage"])),
            raw.get("stop_sequence"),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class RedisCache:
    def __init__(self, link: Link, local: MemoryCache) -> None:
        self.link, self.local = link, local

    async def get(self, key: str, now: float) -> Response | None:
        try:
            data = await self.link.call("cache", "GET", self.link.key("cache", key))
        except Unavailable:
            return await self.local.get(key, now)
        return decode_answer(data) if isinstance(data, bytes) else None

    def put(self, key: str, response: Response, now: float) -> None:
        self.local.put(key, response, now)
        data = encode_answer(response)
        if data is not None:
            self.link.post(
                "cache",
                "SET",
                self.link.key("cache", key),
                data,
                "PX",
                max(1, int(self.local.ttl_s * 1000)),
            )
