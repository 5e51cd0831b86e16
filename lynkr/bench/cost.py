"""What a sequence of upstream bodies costs once the provider's prompt cache is counted.

Pure: a body is cut into the pieces a model reads in order (the tools, then each message, the
system text first), each request is compared with the previous request of its session, and the
tokens they share from the start (the shared prefix) are priced by each caching rule:

- Anthropic: the shared prefix is read from the cache at 0.1x, the rest written at 1.25x
  (breakpoints at the end of the prompt, as ``cache_breakpoints`` and Claude Code place them);
- OpenAI: prefixes from 1,024 tokens, in 128-token steps, at 0.5x (gpt-4o), 0.25x (gpt-4.1),
  0.1x (gpt-5);
- DeepSeek: 64-token units at 0.1x;
- a local server (llama.cpp, Ollama): the KV cache of the previous request's common prefix is
  reused, so only the rest is prefilled (tokens, the user's wait).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import orjson


@attrs.frozen
class Rule:
    name: str
    read: float  # price of a cached input token, as a share of an uncached one
    write: float = 1.0  # price of an uncached input token (Anthropic writes: 1.25)
    minimum: int = 0  # no cache below this prefix
    unit: int = 1  # the cached prefix counts in these steps


RULES: tuple[Rule, ...] = (
    Rule("anthropic", 0.1, 1.25, 1024),
    Rule("gpt-4o", 0.5, 1.0, 1024, 128),
    Rule("gpt-4.1", 0.25, 1.0, 1024, 128),
    Rule("gpt-5", 0.1, 1.0, 1024, 128),
    Rule("deepseek", 0.1, 1.0, 64, 64),
)
LOCAL = "local prefill"


def cached_tokens(rule: Rule, shared: int) -> int:
    return 0 if shared < rule.minimum else shared - shared % rule.unit


def cost(rule: Rule, total: int, shared: int) -> float:
    """The input cost of one request in uncached-token units."""
    cached = cached_tokens(rule, shared)
    return cached * rule.read + (total - cached) * rule.write


Piece = tuple[str, str]  # (where, text): "tools", "system", "message 3"


def pieces(body: Mapping[str, Any]) -> list[Piece]:
    """An OpenAI, Ollama or Anthropic chat body as the pieces a model reads, in order."""
    out: list[Piece] = []
    if body.get("tools"):
        out.append(("tools", orjson.dumps(body["tools"], option=orjson.OPT_SORT_KEYS).decode()))
    if body.get("system"):
        out.append(("system", _json(body["system"])))
    for index, message in enumerate(body.get("messages") or ()):
        where = "system" if message.get("role") in ("system", "developer") and index == 0 \
            else f"message {index}"
        out.append((where, _json(message)))
    return out


def _json(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value,
                                                             option=orjson.OPT_SORT_KEYS).decode()


@attrs.frozen
class Step:
    """One request compared with the previous one of its session."""

    total: int  # input tokens
    shared: int  # tokens of the prefix shared with the previous request
    first_difference: str  # "tools", "system", "message N", "appended" or "first request"


class PrefixMeter:
    """Tokens of pieces and of common prefixes, counted once per distinct text."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self._count = count
        self._memo: dict[str, int] = {}

    def tokens(self, text: str) -> int:
        found = self._memo.get(text)
        if found is None:
            found = self._memo[text] = self._count(text)
        return found

    def step(self, previous: Sequence[Piece] | None, current: Sequence[Piece]) -> Step:
        total = sum(self.tokens(t) for _, t in current)
        if previous is None:
            return Step(total, 0, "first request")
        shared = 0
        for index, (where, text) in enumerate(current):
            if index >= len(previous):
                return Step(total, shared, "appended")
            before = previous[index][1]
            if before == text:
                shared += self.tokens(text)
                continue
            common = _common_prefix(before, text)
            # a piece only extended at its end (the last message grew) still shares its start
            shared += min(self.tokens(text[:common]), self.tokens(text)) if common else 0
            return Step(total, shared, where)
        return Step(total, shared, "appended" if len(previous) <= len(current) else "shorter")


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # the longest common prefix by halving: slices compare in C
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def session_steps(bodies: Iterable[Mapping[str, Any]], meter: PrefixMeter) -> list[Step]:
    previous: list[Piece] | None = None
    out = []
    for body in bodies:
        current = pieces(body)
        out.append(meter.step(previous, current))
        previous = current
    return out


@attrs.frozen
class Totals:
    """Sums over requests: raw tokens, cost per rule, local prefill, where prefixes broke."""

    requests: int = 0
    raw: int = 0
    shared: int = 0
    costs: Mapping[str, float] = attrs.field(factory=dict)
    prefill: int = 0
    breaks: Mapping[str, int] = attrs.field(factory=dict)

    @classmethod
    def of(cls, steps: Iterable[Step]) -> Totals:
        steps = list(steps)
        breaks: dict[str, int] = {}
        for s in steps:
            kind = break_kind(s.first_difference)
            breaks[kind] = breaks.get(kind, 0) + 1
        return cls(len(steps), sum(s.total for s in steps), sum(s.shared for s in steps),
                   {r.name: sum(cost(r, s.total, s.shared) for s in steps) for r in RULES},
                   sum(s.total - s.shared for s in steps), breaks)

    def __add__(self, other: Totals) -> Totals:
        keys = set(self.breaks) | set(other.breaks)
        return Totals(self.requests + other.requests, self.raw + other.raw,
                      self.shared + other.shared,
                      {k: self.costs.get(k, 0.0) + other.costs.get(k, 0.0)
                       for k in set(self.costs) | set(other.costs)},
                      self.prefill + other.prefill,
                      {k: self.breaks.get(k, 0) + other.breaks.get(k, 0) for k in keys})

    def ratios(self, base: Totals) -> dict[str, float]:
        """Raw tokens, each rule's cost and the local prefill as shares of ``base``'s."""
        out = {"raw": self.raw / base.raw if base.raw else 0.0}
        for rule in RULES:
            b = base.costs.get(rule.name, 0.0)
            out[rule.name] = self.costs.get(rule.name, 0.0) / b if b else 0.0
        out[LOCAL] = self.prefill / base.prefill if base.prefill else 0.0
        return out


def break_kind(where: str) -> str:
    """"tools", "system", "history" (an earlier message changed), "appended" or "first"."""
    if where.startswith("message"):
        return "history"
    return {"first request": "first", "shorter": "history"}.get(where, where)


COLUMNS = ("raw", *(r.name for r in RULES), LOCAL)
