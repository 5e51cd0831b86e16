"""A rate limiter's answer for one request, as plain values (see ``RateLimiter`` in ports)."""

from __future__ import annotations

import attrs


@attrs.frozen
class Window:
    """One limit's state for the headers: limit, what is left, seconds until full again."""

    limit: int
    remaining: int
    reset_s: float


@attrs.frozen
class Decision:
    allowed: bool
    retry_after_s: float  # 0 when allowed
    which: str | None  # "requests" or "tokens" when refused
    requests: Window | None
    tokens: Window | None
