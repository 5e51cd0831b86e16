"""Lynkr's web tools, ``web_search`` and ``web_fetch``, as the ``ToolBox`` named ``web``.

``box`` holds the box; ``search`` talks to SearxNG; ``fetch`` reads one page through
``guard`` (the SSRF rules of ``addresses``, applied after name resolution and on every
redirect) and ``body`` (bounded reading, charsets); ``html_text`` reduces HTML to text.
"""

from __future__ import annotations

import logging

from lynkr.config.settings import Env, Settings
from lynkr.config.web import web_settings
from lynkr.tools.web.box import WEB_FETCH, WEB_SEARCH, WebBox
from lynkr.tools.web.fetch import web_client
from lynkr.tools.web.guard import Resolver, SystemResolver

__all__ = [
    "WEB_FETCH",
    "WEB_SEARCH",
    "Resolver",
    "SystemResolver",
    "WebBox",
    "web_box",
    "web_client",
]


def web_box(settings: Settings) -> WebBox | None:
    """The web box the settings ask for; None when they offer no web tool (nothing set)."""
    web = web_settings(Env(settings.environ))
    if not web.fetch_enabled:
        return None
    if web.allowed_networks:
        logging.getLogger("lynkr.tools").warning(
            "WEB_FETCH_ALLOWED_NETWORKS exempts %s from web_fetch's SSRF guard: the model can "
            "read any HTTP service there",
            ", ".join(str(n) for n in web.allowed_networks),
        )
    return WebBox(web, web_client(web.timeout_s))  # keeps no connection: nothing to close
