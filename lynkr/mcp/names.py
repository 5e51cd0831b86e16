"""Tool names for MCP servers' tools: ``mcp_<server>_<tool>``, as the original Lynkr named them.

Assumes: server and tool names are any strings a manifest or a server chose.
Guarantees: every name fits every provider's rule for tool names (``^[a-zA-Z0-9_-]{1,64}$``:
Anthropic, OpenAI, Bedrock); the same inputs always give the same names; two different tools
never share a name (a clash, or a name cut to 64 characters, gets a short stable hash suffix).
Never: depends on the order servers started or answered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_NAME = 64
PREFIX = "mcp"
_OUTSIDE = re.compile(r"[^A-Za-z0-9_]+")


def sanitize(value: str) -> str:
    """The original's rule: anything but letters, digits and ``_`` becomes one ``_``; no ``_``
    at either end."""
    return _OUTSIDE.sub("_", value).strip("_") or "x"


def _suffixed(name: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def tool_names(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``(server, tool) -> mcp_<server>_<tool>`` for every pair, unique and within the limit."""
    pairs = sorted(set(pairs))
    wanted = {p: f"{PREFIX}_{sanitize(p[0])}_{sanitize(p[1])}" for p in pairs}
    counts: dict[str, int] = {}
    for name in wanted.values():
        counts[name] = counts.get(name, 0) + 1
    out = {}
    for pair, name in wanted.items():
        if counts[name] > 1 or len(name) > MAX_NAME:
            name = _suffixed(name, f"{pair[0]}\0{pair[1]}")
        out[pair] = name
    return out
