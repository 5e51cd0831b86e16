"""A fake SearxNG speaking its search API: ``GET /search?q=...&format=json`` answers the JSON
of SearxNG's ``searx/webutils.py:get_json_response`` (query, number_of_results, results with
the fields its result container fills, answers, corrections, infoboxes, suggestions,
unresponsive_engines as [engine, message] pairs). Like a real instance, a format that is not
enabled answers 403 (SearxNG's default settings.yml enables only html), and ``format=html``
an HTML page. It records every query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import orjson
import trio

from harness.asgi import handled_lifespan, read_request


def result(
    url: str,
    title: str,
    content: str,
    engine: str = "duckduckgo",
    position: int = 1,
    published: str | None = None,
) -> dict[str, Any]:
    """One entry of ``results`` as SearxNG fills it (``parsed_url`` is urlparse's 6-tuple)."""
    parts = urlsplit(url)
    return {
        "url": url,
        "title": title,
        "content": content,
        "engine": engine,
        "parsed_url": [parts.scheme, parts.netloc, parts.path, "", parts.query, parts.fragment],
        "template": "default.html",
        "engines": [engine, "brave"],
        "positions": [position, position + 1],
        "publishedDate": published,
        "thumbnail": "",
        "img_src": "",
        "priority": "",
        "score": 4.0 / position,
        "category": "general",
    }


RESULTS = [
    result(
        "https://docs.python.org/3/library/ipaddress.html",
        "ipaddress — IPv4/IPv6 manipulation library — Python 3 documentation",
        "The ipaddress module provides the capabilities to create, manipulate and operate "
        "on IPv4 and IPv6 addresses and networks.",
        position=1,
    ),
    result(
        "https://en.wikipedia.org/wiki/Server-side_request_forgery",
        "Server-side request forgery - Wikipedia",
        "In computer security, server-side request forgery (SSRF) is a type of exploit "
        "where an attacker abuses the functionality of a server...",
        "wikipedia",
        2,
        "2026-03-01T00:00:00",
    ),
    result(
        "https://owasp.org/www-community/attacks/Server_Side_Request_Forgery",
        "Server Side Request Forgery | OWASP Foundation",
        "",
        "brave",
        3,
    ),
]


@attrs.define
class FakeSearxng:
    formats: tuple[str, ...] = ("html", "json")  # search.formats of settings.yml
    results: list[dict[str, Any]] = attrs.field(factory=lambda: list(RESULTS))
    status: int | None = None  # answer every search with this status instead
    hang: bool = False  # never answer
    queries: list[dict[str, list[str]]] = attrs.field(factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if await handled_lifespan(scope, receive, send):
            return
        await read_request(scope, receive)
        query = parse_qs(scope["query_string"].decode())
        self.queries.append(query)
        if self.hang:
            await trio.sleep_forever()
        output = query.get("format", ["html"])[0]
        if scope["path"] not in ("/", "/search"):
            await _reply(send, 404, b"Not Found", "text/html")
        elif self.status is not None:
            await _reply(send, self.status, b"<html>error</html>", "text/html")
        elif output not in self.formats:
            await _reply(send, 403, b"Forbidden", "text/html; charset=utf-8")
        elif output == "html":
            await _reply(send, 200, b"<html><body>results</body></html>", "text/html")
        else:
            await _reply(
                send, 200, orjson.dumps(self.answer(query.get("q", [""])[0])), "application/json"
            )

    def answer(self, q: str) -> dict[str, Any]:
        return {
            "query": q,
            "number_of_results": 0 if not self.results else 48_100,
            "results": self.results,
            "answers": [],
            "corrections": [],
            "infoboxes": [],
            "suggestions": ["ssrf prevention python", "dns rebinding"] if self.results else [],
            "unresponsive_engines": [["google", "timeout"]],
        }


async def _reply(send: Any, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
