"""Learn the output limits a provider publishes for its models, once, at start-up.

Only providers whose facts say their model list publishes it are asked (OpenRouter,
``publishes_output_limits`` in ``config/vendors.py``). A provider that does not
answer within the timeout, or answers something else, teaches nothing: the table in
``config/output_limits.py`` applies. Never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from lynkr.config.vendors import vendor
from lynkr.formats.model_list import output_limits
from lynkr.ports import Upstream
from lynkr.providers.http import HttpUpstream

log = logging.getLogger("lynkr.providers")


async def fetch_output_limits(upstreams: Mapping[str, Upstream], timeout: float = 5.0
                              ) -> dict[str, int]:
    learned: dict[str, int] = {}
    for provider in upstreams.values():
        if not isinstance(provider, HttpUpstream) \
                or not vendor(provider.settings.name).publishes_output_limits:
            continue
        url = provider.settings.endpoint.removesuffix("/chat/completions") + "/models"
        try:
            response = await provider.client.get(url, headers=provider.profile.headers,
                                                 timeout=timeout)
            limits = output_limits(response.json()) if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("model list of %s unavailable: %s", provider.settings.name, exc)
            continue
        learned.update(limits)
        log.info("learned the output limits of %d %s models", len(limits),
                 provider.settings.name)
    return learned
