"""What an upstream parser does with a frame it cannot use: the answer ends with an error.

A frame that is not JSON, JSON of the wrong shape (an array where an object belongs, an object
where a string belongs) or a line beyond the size limit ends the stream with a ``StreamError``
naming the problem: the client gets its dialect's error frame (or a 502 before any content),
never a 500, a silent cut, or a wrong-typed value passed along.
"""

from __future__ import annotations

from typing import Any

from lynkr.model.errors import FrameTooLarge
from lynkr.model.events import StreamError

# what reading a wrongly shaped frame raises (orjson.JSONDecodeError is a ValueError)
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, FrameTooLarge)


def malformed(exc: BaseException) -> StreamError:
    if isinstance(exc, FrameTooLarge):
        return StreamError("api_error", exc.message)
    detail = str(exc)[:200] or type(exc).__name__
    return StreamError("api_error", f"the upstream sent a malformed stream frame ({detail})")


def text(value: Any, field: str) -> str:
    """A field that must be a string (or absent/null, read as empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, got {type(value).__name__}")
    return value


def obj(value: Any, field: str) -> dict[str, Any]:
    """A field that must be an object (or absent/null, read as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{field} must be an object, got {type(value).__name__}")
    return value


def count(value: Any) -> int:
    """A token count or index: a non-negative integer (absent/null read as 0)."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"expected a non-negative integer, got {value!r:.40}")
    return value
