"""Anthropic ``thinking`` ⇄ each backend's reasoning control, and reasoning state in signatures.

Request side: ``intent`` reads the canonical ``thinking`` (``enabled`` + ``budget_tokens``,
``adaptive`` + an ``effort`` folded in from ``output_config``, ``disabled``) once; the
``*_fields`` functions say what a backend's body gets for it.

Round trip: backends that want their own reasoning back on the next tool-call turn (DeepSeek,
Kimi, GLM, vLLM/SGLang reasoning parsers, OpenRouter, Ollama) get it through the client, which
returns a thinking block's ``signature`` (Responses: the reasoning item's
``encrypted_content``) untouched. ``sign`` packs the fields it came in (``reasoning_content``,
``reasoning``, ``reasoning_details``, ``thinking``) into ``lynkr:v1:<base64 JSON>``;
``restore`` unpacks them for the same provider only. Such signatures mean nothing to
Anthropic; ``is_foreign`` tells them apart from real ones.
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


# the fields a backend returns its reasoning in, each restored as it came
FIELDS = ("reasoning_content", "reasoning", "reasoning_details", "thinking")
# the provider of reasoning an OpenAI Chat client echoed (opencode, for one, sends back the
# reasoning_content it got): it goes back to whichever backend answers, in the client's field
ANY_PROVIDER = "*"


def echo_by_default(provider: str, endpoint: str) -> bool:
    """Whether a provider gets its own reasoning back without ``<PROVIDER>_ECHO_REASONING``.

    Always: the echo only restores what this very backend returned, in the field it used, so a
    backend that never sends reasoning never gets any, and those that do (DeepSeek, Kimi, GLM,
    Qwen3 and gpt-oss behind vLLM/SGLang, OpenRouter, Ollama) are given what some of them
    require on the next tool-call turn wherever they are hosted.
    """
    del provider, endpoint  # the same answer for every host: that is the point
    return True


def sign(provider: str, fields: Mapping[str, Any] | str) -> str:
    """A signature carrying ``provider``'s reasoning fields (a string: ``reasoning_content``)."""
    if isinstance(fields, str):
        fields = {"reasoning_content": fields}
    payload = orjson.dumps({"provider": provider, "fields": dict(fields)})
    return PREFIX + base64.b64encode(payload).decode()


def unpack(signature: str) -> tuple[str, dict[str, Any]] | None:
    """(provider, reasoning fields) from one of our signatures, else None."""
    if not signature.startswith(PREFIX):
        return None
    try:
        obj = orjson.loads(base64.b64decode(signature[len(PREFIX):], validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("provider"), str):
        return None
    fields = obj.get("fields")
    if fields is None and isinstance(obj.get("reasoning_content"), str):  # the first format
        fields = {"reasoning_content": obj["reasoning_content"]}
    if not isinstance(fields, dict):
        return None
    return obj["provider"], {k: v for k, v in fields.items() if k in FIELDS}


def carried_for(signature: str, provider: str) -> bool:
    """True when ``signature`` carries reasoning that goes back to ``provider``."""
    unpacked = unpack(signature)
    return unpacked is not None and unpacked[0] in (provider, ANY_PROVIDER)


def is_foreign(signature: str) -> bool:
    """True for signatures no Anthropic backend issued: empty ones and ours."""
    return not signature or signature.startswith("lynkr:")


def restore(blocks: Iterable[ThinkingBlock], provider: str) -> dict[str, Any]:
    """The reasoning fields ``provider`` (or a client's echo) gave for this assistant turn,
    joined across its thinking blocks (strings concatenated, ``reasoning_details`` lists
    chained); {} if none."""
    out: dict[str, Any] = {}
    for block in blocks:
        unpacked = unpack(block.signature)
        if unpacked is None or unpacked[0] not in (provider, ANY_PROVIDER):
            continue
        for field, value in unpacked[1].items():
            if isinstance(value, list):
                out[field] = [*out.get(field, []), *value]
            elif isinstance(value, str):
                out[field] = out.get(field, "") + value
    return out


def merge_details(details: list[Any], more: Iterable[Any]) -> None:
    """Streamed ``reasoning_details`` pieces folded in place: a piece of the same type and
    index as the last one extends its text (``text``/``summary``/``data``)."""
    for piece in more:
        if not isinstance(piece, dict):
            continue
        last = details[-1] if details else None
        if last is not None and last.get("type") == piece.get("type") \
                and last.get("index") == piece.get("index"):
            for key, value in piece.items():
                if key in ("text", "summary", "data") and isinstance(value, str):
                    last[key] = (last.get(key) or "") + value
                elif value is not None:
                    last[key] = value
        else:
            details.append(dict(piece))


def details_text(details: Iterable[Any]) -> str:
    """The readable part of ``reasoning_details`` pieces (text and summaries)."""
    parts = []
    for piece in details:
        if isinstance(piece, dict):
            for key in ("text", "summary"):
                if isinstance(piece.get(key), str):
                    parts.append(piece[key])
    return "".join(parts)
