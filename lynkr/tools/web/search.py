"""``web_search``: one query to a SearxNG instance's JSON API, written as text for the model.

Assumes: ``WEB_SEARCH_ENDPOINT`` is SearxNG's search URL (``http://host:8888/search``); it is
asked ``GET <endpoint>?q=...&format=json`` and answers the shape of SearxNG's
``webutils.get_json_response``: ``query``, ``number_of_results``, ``results`` (``url``,
``title``, ``content``, ``engine``, ``publishedDate``, ...), ``answers``, ``corrections``,
``infoboxes``, ``suggestions``, ``unresponsive_engines`` (``[engine, reason]`` pairs).
Guarantees: the text names each result's title, URL and snippet, at most ``limit`` of them and
``max_chars`` in all; an instance that has the JSON format switched off (SearxNG's 403) or
answers anything but that JSON is a ``SearchError`` that says so.
Never: applies the SSRF guard to the endpoint (the operator configured it, and it is usually
a local container); follows redirects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from lynkr.tools.web.body import Collector

SNIPPET_CHARS = 400
MAX_RESPONSE_BYTES = 4_000_000


class SearchError(Exception):
    """A search that did not produce results; the message says why, for the model."""


async def search(client: httpx.AsyncClient, endpoint: str, query: str) -> Mapping[str, Any]:
    """SearxNG's JSON answer to ``query`` (``SearchError`` when there is none)."""
    request = client.build_request(
        "GET",
        endpoint,
        params={"q": query, "format": "json"},
        headers={"Accept": "application/json"},
    )
    try:
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        raise SearchError(
            f"the search service at {endpoint} could not be reached: {type(exc).__name__}: {exc}"
        ) from None
    try:
        collector = Collector(MAX_RESPONSE_BYTES)
        async for chunk in response.aiter_bytes():
            if not collector.feed(chunk):
                raise SearchError("the search service's answer is too large")
    except httpx.HTTPError as exc:
        raise SearchError(f"the search service's answer broke off: {exc}") from None
    finally:
        await response.aclose()
    if response.status_code == 403:
        raise SearchError(
            "the search service refused the JSON format (403): a SearxNG "
            "instance needs `json` under `search: formats:` in its settings.yml"
        )
    if response.status_code != 200:
        raise SearchError(f"the search service answered HTTP {response.status_code}")
    try:
        payload = json.loads(collector.body)
    except ValueError:
        raise SearchError(
            "the search service did not answer JSON: is WEB_SEARCH_ENDPOINT a SearxNG /search URL?"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise SearchError("the search service's JSON has no `results` list (not SearxNG?)")
    return payload


def _line(value: object, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _results(results: Sequence[Any], limit: int) -> list[str]:
    """One entry (several lines) per result that has a URL, numbered from 1."""
    entries = []
    for number, item in enumerate(
        [r for r in results if isinstance(r, dict) and r.get("url")][:limit], start=1
    ):
        lines = [
            f"{number}. {_line(item.get('title')) or '(no title)'}",
            f"   {_line(item['url'], 2000)}",
        ]
        if item.get("publishedDate"):
            lines.append(f"   published {_line(item['publishedDate'], 40)}")
        if item.get("content"):
            lines.append(f"   {_line(item['content'])}")
        entries.append("\n".join(lines))
    return entries


def _extras(payload: Mapping[str, Any]) -> list[str]:
    lines = []
    answers = [a.get("answer") if isinstance(a, dict) else a for a in payload.get("answers") or ()]
    lines += [f"Answer: {_line(a)}" for a in answers if a]
    for box in payload.get("infoboxes") or ():
        if isinstance(box, dict) and box.get("content"):
            lines.append(f"Infobox {_line(box.get('infobox'), 80)}: {_line(box['content'])}")
    corrections = [_line(c, 100) for c in payload.get("corrections") or () if c]
    if corrections:
        lines.append("Did you mean: " + "; ".join(corrections))
    suggestions = [_line(s, 100) for s in payload.get("suggestions") or () if s][:5]
    if suggestions:
        lines.append("Related searches: " + "; ".join(suggestions))
    silent = [
        _line(pair[0], 40)
        for pair in payload.get("unresponsive_engines") or ()
        if isinstance(pair, list | tuple) and pair
    ]
    if silent:
        lines.append("Engines that did not answer: " + ", ".join(silent))
    return lines


def render(payload: Mapping[str, Any], query: str, limit: int, max_chars: int) -> str:
    """The model's text for one SearxNG answer: results first, then answers and hints."""
    results = _results(payload.get("results") or (), limit)
    total = payload.get("number_of_results")
    about = f", about {total} in all" if isinstance(total, int) and total > 0 else ""
    if results:
        head = f"Web results for {query!r} (top {len(results)}{about}):"
    else:
        head = f"No web results for {query!r}."
    text = "\n".join([head, *results, *_extras(payload)])
    if len(text) > max_chars:
        text = text[: max_chars - 40].rstrip() + "\n[cut at the output limit]"
    return text
