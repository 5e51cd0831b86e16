"""A provider's model list (``GET …/models``) → the output limit of each model it names.

Accepts OpenAI-style lists (``{"data": [{"id": …}, …]}``) whose entries say how much a model can
write: OpenRouter's ``top_provider.max_completion_tokens``, or a top-level
``max_completion_tokens`` / ``max_output_tokens``. Guarantees: only positive integers, keyed by
the model id exactly as listed. Never: guesses a limit from a context length.
"""

from __future__ import annotations

from typing import Any


def output_limits(listing: Any) -> dict[str, int]:
    entries = listing.get("data") if isinstance(listing, dict) else None
    limits: dict[str, int] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        top = entry.get("top_provider")
        candidates = (top.get("max_completion_tokens") if isinstance(top, dict) else None,
                      entry.get("max_completion_tokens"), entry.get("max_output_tokens"))
        limit = next((c for c in candidates if isinstance(c, int) and not isinstance(c, bool)
                      and c > 0), None)
        if limit is not None:
            limits[entry["id"]] = limit
    return limits
