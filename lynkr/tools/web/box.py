"""The web ``ToolBox``: ``web_search`` (SearxNG) and ``web_fetch`` (one page, as text).

Assumes: ``WebSettings`` (``lynkr/config/web.py``), a client from ``web_client`` and a
``Resolver`` (the system's by default).
Guarantees: ``web_search`` is offered only when ``WEB_SEARCH_ENDPOINT`` is set, ``web_fetch``
when that or ``WEB_SEARCH_ALLOWED_HOSTS`` is; the set never changes while the server runs;
every call ends within ``WEB_SEARCH_TIMEOUT_MS`` (lookups and redirects included) and hands
back at most ``WEB_FETCH_BODY_PREVIEW_MAX`` characters of content; every failure (bad
arguments, a refused address, a timeout, an HTTP error) is an ``is_error`` outcome whose text
says why; every SSRF refusal is logged.
Never: raises for a failed call; reaches an address the guard refused.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
import trio

from lynkr.config.web import WebSettings
from lynkr.model.request import Tool
from lynkr.tools.port import ToolContext, ToolOutcome
from lynkr.tools.web.fetch import Fetched, FetchError, Limits, fetch
from lynkr.tools.web.guard import Policy, Refused, Resolver, SystemResolver
from lynkr.tools.web.html_text import html_to_text
from lynkr.tools.web.search import SearchError, render, search

log = logging.getLogger("lynkr.tools")

MAX_RESULTS = 20
MAX_URL = 4096

WEB_SEARCH = Tool(
    "web_search",
    "Search the web (through the proxy's SearxNG instance) for current information: "
    "documentation, error messages, releases, news. Answers titles, URLs and snippets; read "
    "a result in full with web_fetch.",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to search for"},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "description": "results to return (default 5)",
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    },
)
WEB_FETCH = Tool(
    "web_fetch",
    "Fetch one public web page or text document by URL and read it as text (HTML reduced "
    "to headings, paragraphs, lists and links; JSON and plain text as they are). Does not "
    "run JavaScript. Long pages come in parts: call again with the offset it names.",
    {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "an http:// or https:// URL"},
            "offset": {
                "type": "integer",
                "minimum": 0,
                "description": "character of the page's text to start at (default 0)",
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    },
)


def _error(text: str) -> ToolOutcome:
    return ToolOutcome(text, is_error=True)


def _int(arguments: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int | None:
    value = arguments.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


class WebBox:
    """``web_search`` and ``web_fetch`` as the ``ToolBox`` named ``web``."""

    def __init__(
        self,
        settings: WebSettings,
        client: httpx.AsyncClient,
        resolver: Resolver | None = None,
        limiter: trio.CapacityLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.resolver = resolver or SystemResolver()
        self.limiter = limiter or trio.CapacityLimiter(2)  # HTML reduction, off the event loop
        self.policy = Policy(settings.allowed_hosts, settings.allowed_networks)
        offered = []
        if settings.search_enabled:
            offered.append(WEB_SEARCH)
        if settings.fetch_enabled:
            offered.append(WEB_FETCH)
        self._tools = tuple(offered)

    @property
    def name(self) -> str:
        return "web"

    def tools(self) -> tuple[Tool, ...]:
        return self._tools

    def timeout_s(self, tool: str) -> float:
        """Each call's own bound (the loop waits this long, not ``TOOL_TIMEOUT_MS``)."""
        return self.settings.timeout_s

    async def run(
        self, name: str, arguments: Mapping[str, Any], context: ToolContext
    ) -> ToolOutcome:
        if name not in {t.name for t in self._tools}:
            return _error(f"{name} is not a web tool offered here")
        with trio.move_on_after(self.settings.timeout_s) as scope:
            if name == "web_search":
                return await self._search(arguments)
            return await self._fetch(arguments, context)
        assert scope.cancelled_caught
        return _error(
            f"{name} was stopped after {self.settings.timeout_s:g} s (WEB_SEARCH_TIMEOUT_MS)"
        )

    async def _search(self, arguments: Mapping[str, Any]) -> ToolOutcome:
        query = arguments.get("query")
        limit = _int(arguments, "limit", 5, 1, MAX_RESULTS)
        if not isinstance(query, str) or not query.strip() or len(query) > 1000:
            return _error(
                "web_search needs a 'query': a non-empty string of at most 1000 characters"
            )
        if limit is None:
            return _error(f"web_search's 'limit' must be a whole number from 1 to {MAX_RESULTS}")
        assert self.settings.search_endpoint is not None
        try:
            payload = await search(self.client, self.settings.search_endpoint, query.strip())
        except SearchError as exc:
            return _error(f"web_search failed: {exc}")
        return ToolOutcome(render(payload, query.strip(), limit, self.settings.max_chars))

    async def _fetch(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutcome:
        url = arguments.get("url")
        offset = _int(arguments, "offset", 0, 0, 1 << 40)
        if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
            return _error(
                f"web_fetch needs a 'url': an http(s) URL of at most {MAX_URL} characters"
            )
        if offset is None:
            return _error("web_fetch's 'offset' must be a whole number, 0 or more")
        limits = Limits(self.settings.max_bytes, self.settings.max_redirects)
        try:
            page = await fetch(self.client, url, self.policy, self.resolver, limits)
        except Refused as exc:
            log.warning(
                "web_fetch refused %r: %s", url[:300], exc, extra={"request_id": context.request_id}
            )
            return _error(f"web_fetch refused {url}: {exc}")
        except FetchError as exc:
            return _error(f"web_fetch failed: {exc}")
        return await self._page(page, offset)

    async def _page(self, page: Fetched, offset: int) -> ToolOutcome:
        title, text = "", page.text
        if page.kind == "html":
            reduced = await trio.to_thread.run_sync(
                html_to_text,
                page.text,
                page.final_url,
                limiter=self.limiter,
                abandon_on_cancel=True,
            )
            title, text = reduced.title[:300], reduced.text
        head = [f"URL: {page.final_url}"]
        if page.redirects:
            head.append(f"Redirected {len(page.redirects)} time(s) on the way.")
        head.append(f"Status: {page.status}; Content-Type: {page.content_type or 'none'}")
        if title:
            head.append(f"Title: {title}")
        if page.status >= 400:
            excerpt = text[:1000]
            return _error("\n".join([f"web_fetch got HTTP {page.status}", *head, "", excerpt]))
        end = min(len(text), offset + self.settings.max_chars)
        notes = []
        if not text.strip():
            notes.append(
                "[the page has no text without JavaScript, which web_fetch does not run]"
                if page.kind == "html"
                else "[the body is empty]"
            )
        elif offset >= len(text):
            notes.append(f"[offset {offset} is past the end: the text has {len(text)} characters]")
        elif end < len(text) or offset:
            notes.append(
                f"[characters {offset}-{end} of {len(text)}"
                + (f"; call web_fetch with offset={end} for more]" if end < len(text) else "]")
            )
        if page.truncated:
            notes.append(
                f"[only the first {self.settings.max_bytes} bytes were read (WEB_FETCH_MAX_BYTES)]"
            )
        return ToolOutcome("\n".join([*head, "", text[offset:end], *notes]).strip())
