"""The rate-limit headers both families of clients read, from a limiter's ``Decision``.

Anthropic's SDKs and Claude Code read ``anthropic-ratelimit-{requests,tokens}-{limit,remaining,
reset}`` (reset: an RFC 3339 time when the bucket is full again); OpenAI's read
``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (reset: a duration such as ``6m0s``
or ``1.5s``). Both read ``retry-after`` (whole seconds) on a 429.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

from lynkr.model.limits import Decision, Window


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    if minutes >= 1:
        return f"{int(minutes)}m{rest:.0f}s"
    return f"{math.ceil(rest * 1000) / 1000:g}s"


def _rfc3339(wall: float, seconds: float) -> str:
    return _when(math.ceil(wall + seconds))


@functools.lru_cache(maxsize=256)
def _when(second: int) -> str:
    return dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ratelimit_headers(decision: Decision, anthropic: bool, wall: float
                      ) -> list[tuple[bytes, bytes]]:
    """The headers for ``decision``, in the client's family; ``wall`` is time.time()."""
    out: list[tuple[bytes, bytes]] = []
    windows: list[tuple[str, Window]] = [(kind, w) for kind, w in
                                         (("requests", decision.requests),
                                          ("tokens", decision.tokens)) if w is not None]
    for kind, window in windows:
        if anthropic:
            base = f"anthropic-ratelimit-{kind}-"
            out += [((base + "limit").encode(), str(window.limit).encode()),
                    ((base + "remaining").encode(), str(window.remaining).encode()),
                    ((base + "reset").encode(), _rfc3339(wall, window.reset_s).encode())]
        else:
            out += [(f"x-ratelimit-limit-{kind}".encode(), str(window.limit).encode()),
                    (f"x-ratelimit-remaining-{kind}".encode(), str(window.remaining).encode()),
                    (f"x-ratelimit-reset-{kind}".encode(), _duration(window.reset_s).encode())]
    return out
