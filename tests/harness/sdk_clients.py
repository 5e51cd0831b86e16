"""SDK clients opened by a test, closed after it (an unclosed one warns later, elsewhere)."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")
_open: list[Any] = []


def track(client: T) -> T:
    _open.append(client)
    return client


def close_all() -> None:
    while _open:
        _open.pop().close()
