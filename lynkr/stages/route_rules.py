"""Hybrid routing rules: which tier a request fits, and the fallback chain after it.

Pure: the request's signals (tool count, prompt size against each target's context window,
thinking asked, images, a Claude Code side request) are read from the canonical request, the
targets from ``ProviderInfo``. Every request gets a route: if no tier fits, the last tier (the
most capable) takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from lynkr.model.content import ImageBlock, ToolResultBlock
from lynkr.model.request import Request
from lynkr.ports import ProviderInfo


@attrs.frozen
class Tier:
    provider: str
    max_tools: int | None = None  # None: any number
    max_context_fraction: float = 0.9  # prompt ≤ this share of the provider's context window
    thinking: bool = True  # may answer requests that ask for thinking
    images: bool = True


@attrs.frozen
class Signals:
    tools: int
    prompt_tokens: int
    thinking: bool
    images: bool
    side_request: bool  # Claude Code's background calls: no tools, a small model asked


@attrs.frozen
class Decision:
    provider: str
    reason: str
    fallbacks: tuple[str, ...]
    kind: str = "configured"  # the reason's kind, a closed set (a metrics label)


def signals(request: Request, prompt_tokens: int) -> Signals:
    tools = sum(1 for t in request.tools if not t.deferred)
    thinking = request.thinking is not None and bool(request.thinking) \
        and request.thinking.get("type") != "disabled"
    images = any(isinstance(b, ImageBlock) or (isinstance(b, ToolResultBlock) and any(
        isinstance(c, ImageBlock) for c in b.content))
        for m in request.messages for b in m.content)
    side = tools == 0 and "haiku" in request.model
    return Signals(tools, prompt_tokens, thinking, images, side)


def fits(tier: Tier, info: ProviderInfo, s: Signals) -> str | None:
    """Why the request does NOT fit the tier, or None if it does."""
    if tier.max_tools is not None and s.tools > tier.max_tools:
        return f"{s.tools} tools > {tier.max_tools}"
    if s.prompt_tokens > tier.max_context_fraction * info.context_window:
        return f"{s.prompt_tokens} tokens > {tier.max_context_fraction:.0%} of " \
               f"{info.context_window}"
    if s.thinking and not tier.thinking:
        return "thinking asked"
    if s.images and not tier.images:
        return "images"
    return None


def decide(request: Request, tiers: Sequence[Tier], fallbacks: Sequence[str],
           providers: Mapping[str, ProviderInfo], default: str,
           count: Callable[[Request], int]) -> Decision:
    usable = [t for t in tiers if t.provider in providers]
    if not usable:
        return Decision(default, "configured provider", _chain(default, fallbacks, providers),
                        "configured")
    s = signals(request, count(request))
    if s.side_request:
        first = usable[0]
        return Decision(first.provider, "side request to the first tier",
                        _chain(first.provider, [t.provider for t in usable] + list(fallbacks),
                               providers), "side_request")
    skipped: list[str] = []
    for tier in usable:
        why_not = fits(tier, providers[tier.provider], s)
        if why_not is None:
            reason = f"tier {tier.provider}" + (f" ({'; '.join(skipped)})" if skipped else "")
            later = [t.provider for t in usable[usable.index(tier) + 1:]]
            return Decision(tier.provider, reason,
                            _chain(tier.provider, later + list(fallbacks), providers), "tier")
        skipped.append(f"not {tier.provider}: {why_not}")
    last = usable[-1].provider
    return Decision(last, "no tier fits, the last takes it (" + "; ".join(skipped) + ")",
                    _chain(last, fallbacks, providers), "no_tier_fits")


def _chain(chosen: str, candidates: Sequence[str], providers: Mapping[str, ProviderInfo]
           ) -> tuple[str, ...]:
    out: list[str] = []
    for name in candidates:
        if name != chosen and name in providers and name not in out:
            out.append(name)
    return tuple(out)
