"""Learn the output limits a provider publishes for its models, once, at start-up.

Only providers whose model list says so are asked (OpenRouter). A provider that does not
answer within the timeout, or answers something else, teaches nothing: the table in
``config/output_limits.py`` applies. Never raises.
"""

from __future__ import annotations

import logging

import httpx

from lynkr.formats.model_list import output_limits
from lynkr.providers.http import HttpProvider

log = logging.getLogger("lynkr.providers")
PUBLISHERS = ("openrouter",)  # providers whose /models gives each model's output limit


async def fetch_output_limits(providers: dict[str, HttpProvider], timeout: float = 5.0
                              ) -> dict[str, int]:
    learned: dict[str, int] = {}
    for provider in providers.values():
        if provider.name not in PUBLISHERS:
            continue
        url = provider.settings.endpoint.removesuffix("/chat/completions") + "/models"
        try:
            response = await provider.client.get(url, headers=provider.profile.headers,
                                                 timeout=timeout)
            limits = output_limits(response.json()) if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("model list of %s unavailable: %s", provider.name, exc)
            continue
        learned.update(limits)
        log.info("learned the output limits of %d %s models", len(limits), provider.name)
    return learned
