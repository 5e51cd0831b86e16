"""How deeply a JSON document nests, checked on its bytes before it is parsed.

The parser accepts 1,024 levels but the serializer stops at 254, so a request nested between
the two would fail only when the proxy writes it on: the ingress refuses it first, with a 400
naming the limit (``MAX_JSON_DEPTH``). Strings are skipped (a ``{`` inside one does not count);
the scan costs one regex pass and one pass over the brackets, and is skipped outright when the
document has fewer brackets than the limit.
"""

from __future__ import annotations

import re

from lynkr.model.errors import BadRequest

DEFAULT_MAX_DEPTH = 128
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


def json_depth(document: bytes) -> int:
    """The deepest nesting of arrays and objects in ``document`` (0 for a scalar)."""
    brackets = _STRING.sub(b"", document).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(document: bytes, limit: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise ``BadRequest`` if ``document`` nests deeper than ``limit``."""
    if document.count(b"[") + document.count(b"{") <= limit:
        return
    depth = json_depth(document)
    if depth > limit:
        raise BadRequest(f"request body nests {depth} levels deep; the limit is {limit} "
                         f"(MAX_JSON_DEPTH)")
