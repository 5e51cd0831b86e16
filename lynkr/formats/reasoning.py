"""Anthropic ``thinking`` ⇄ each backend's reasoning control, and reasoning state in signatures.

Request side: ``intent`` reads the canonical ``thinking`` (``enabled`` + ``budget_tokens``,
``adaptive`` + an ``effort`` folded in from ``output_config``, ``disabled``) once; the
``*_fields`` functions say what a backend's body gets for it.

Round trip: a backend that needs its own ``reasoning_content`` back on the next turn (DeepSeek
with tool calls) gets it through Claude Code, which returns a thinking block's ``signature``
untouched. ``sign`` packs the reasoning into ``lynkr:v1:<base64 JSON>``; ``restore`` unpacks it.
Such signatures mean nothing to Anthropic; ``is_foreign`` tells them apart from real ones.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import orjson

from lynkr.model.content import ThinkingBlock

PREFIX = "lynkr:v1:"
EFFORTS = ("low", "medium", "high")


@attrs.frozen
class Intent:
    on: bool
    effort: str = "medium"  # low | medium | high (clamped)
    budget: int | None = None  # budget_tokens when the client gave one


def intent(thinking: Mapping[str, Any] | None) -> Intent | None:
    """None when the client said nothing about thinking."""
    if not thinking:
        return None
    kind = thinking.get("type")
    if kind == "disabled":
        return Intent(False)
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        budget = budget if isinstance(budget, int) and budget > 0 else None
        effort = thinking.get("effort") or _bucket(budget)
        return Intent(True, clamp_effort(effort), budget)
    if kind == "adaptive":
        return Intent(True, clamp_effort(thinking.get("effort") or "high"))
    return None


def _bucket(budget: int | None) -> str:
    if budget is None:
        return "medium"
    return "low" if budget <= 4096 else "medium" if budget <= 16384 else "high"


def clamp_effort(effort: Any) -> str:
    if effort in EFFORTS:
        return str(effort)
    return "high" if effort in ("xhigh", "max") else "low" if effort == "minimal" else "medium"


BUDGETS = {"low": 2048, "medium": 8192, "high": 16384}


def chat_fields(control: str, want: Intent | None, max_tokens: int) -> dict[str, Any]:
    """Extra body fields of an OpenAI-style chat request for ``control``."""
    if want is None or not control:
        return {}
    if control == "reasoning_effort":
        return {"reasoning_effort": want.effort} if want.on else {}
    if control == "openrouter":
        if not want.on:
            return {"reasoning": {"enabled": False}}
        if want.budget:
            return {"reasoning": {"max_tokens": want.budget}}
        return {"reasoning": {"effort": want.effort}}
    if control == "enable_thinking":
        return {"chat_template_kwargs": {"enable_thinking": want.on}}
    if control == "databricks":  # Claude endpoints on the chat route: Anthropic's own field
        if not want.on:
            return {}
        budget = want.budget or BUDGETS[want.effort]
        if max_tokens:
            budget = min(budget, max_tokens - 1)
        return {"thinking": {"type": "enabled", "budget_tokens": budget}} \
            if budget >= 1024 else {}
    return {}


def ollama_think(control: str, want: Intent | None) -> bool | str | None:
    """Ollama's ``think``: true/false, or a level for models that take one (gpt-oss)."""
    if want is None or control not in ("think", "think_level"):
        return None
    if control == "think_level":
        return want.effort if want.on else False
    return want.on


def sign(provider: str, reasoning: str) -> str:
    payload = orjson.dumps({"provider": provider, "reasoning_content": reasoning})
    return PREFIX + base64.b64encode(payload).decode()


def unpack(signature: str) -> tuple[str, str] | None:
    """(provider, reasoning_content) from one of our signatures, else None."""
    if not signature.startswith(PREFIX):
        return None
    try:
        obj = orjson.loads(base64.b64decode(signature[len(PREFIX):], validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    provider, text = obj.get("provider"), obj.get("reasoning_content")
    if not isinstance(provider, str) or not isinstance(text, str):
        return None
    return provider, text


def is_foreign(signature: str) -> bool:
    """True for signatures no Anthropic backend issued: empty ones and ours."""
    return not signature or signature.startswith("lynkr:")


def restore(blocks: Iterable[ThinkingBlock], provider: str) -> str | None:
    """The reasoning_content ``provider`` gave for this assistant turn, if it was carried."""
    found = [u[1] for b in blocks if (u := unpack(b.signature)) and u[0] == provider]
    return "".join(found) if found else None
