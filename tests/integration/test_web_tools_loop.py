"""The web box in the server-side tool loop, built from the environment at start-up
(``lynkr/tools/assemble.py``): the real Lynkr server, a scripted fake model that searches, reads
a page and tries the cloud metadata service, a fake SearxNG and a page server on loopback, and
the anthropic SDK as the client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import pytest
from harness.fake_model import FakeModel
from harness.fake_searxng import FakeSearxng, result
from harness.proxy import provider_env
from harness.servers import serve_asgi, serve_lynkr
from harness.web_pages import Pages
from harness.wire import Reply, ToolCall

BASH = {
    "name": "Bash",
    "description": "Run a shell command.",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
}
WEB_FETCH = {  # Claude Code's own, as it sends it (abridged)
    "name": "WebFetch",
    "description": "Fetch a URL.",
    "input_schema": {"type": "object", "properties": {"url": {"type": "string"}}},
}


def by_results(*replies: Reply) -> Any:
    """The reply for the number of tool results already in the request (OpenAI dialect)."""

    def script(body: dict[str, Any]) -> Reply:
        done = sum(1 for m in body["messages"] if m["role"] == "tool")
        return replies[min(done, len(replies) - 1)]

    return script


@pytest.fixture
def web() -> Iterator[tuple[str, Pages, FakeSearxng]]:
    """A page server and a SearxNG whose first result points at it."""
    site = Pages()
    with serve_asgi(site, name="pages") as pages:
        site.port = int(pages.rsplit(":", 1)[1])
        searxng = FakeSearxng(results=[result(pages + "/page", "Lynkr page", "A test page.")])
        with serve_asgi(searxng, name="searxng") as search:
            yield search + "/search", site, searxng


@contextmanager
def lynkr(script: Any, search: str) -> Iterator[tuple[str, FakeModel]]:
    fake = FakeModel(script)
    with serve_asgi(fake) as upstream:
        env = {
            **provider_env("openai", upstream),
            "LOG_LEVEL": "warning",
            "WEB_SEARCH_ENDPOINT": search,
            "WEB_FETCH_ALLOWED_NETWORKS": "127.0.0.1/32",  # test-only: the page server
        }
        with serve_lynkr(env) as url:
            yield url, fake


def test_the_model_searches_reads_and_is_refused_the_metadata_service(
    web: tuple[str, Pages, FakeSearxng],
) -> None:
    search, site, searxng = web
    page = f"http://127.0.0.1:{site.port}/redirect"
    script = by_results(
        Reply(tool_calls=(ToolCall("web_search", {"query": "lynkr"}, id="c1"),)),
        Reply(tool_calls=(ToolCall("web_fetch", {"url": page}, id="c2"),)),
        Reply(tool_calls=(ToolCall("web_fetch", {"url": "http://169.254.169.254/"}, id="c3"),)),
        Reply(text="The page says welcome."),
    )
    with lynkr(script, search) as (url, fake):
        sdk = anthropic.Anthropic(base_url=url, api_key="dummy", max_retries=0)
        raw = sdk.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            tools=[BASH],  # type: ignore[list-item]
            messages=[{"role": "user", "content": "what does the lynkr page say?"}],
        )
    message = raw.parse()
    assert "offered=web_search,web_fetch" in raw.headers["x-lynkr-tools"]
    kinds = [b.type for b in message.content]
    assert kinds == ["server_tool_use", "lynkr_tool_result"] * 3 + ["text"]
    assert message.content[-1].text == "The page says welcome."  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert searxng.queries == [{"q": ["lynkr"], "format": ["json"]}]
    assert site.hosts == [f"127.0.0.1:{site.port}"] * 2  # /redirect, /page; never the metadata
    results = [m for m in fake.calls[-1].body["messages"] if m["role"] == "tool"]
    assert results[0]["content"].startswith(
        "Web results for 'lynkr' (top 1, about 48100 in all):\n1. Lynkr page"
    )
    assert "# Welcome" in results[1]["content"]
    assert "169.254.169.254 is a cloud metadata service" in results[2]["content"]


def test_a_client_with_its_own_web_fetch_keeps_it(web: tuple[str, Pages, FakeSearxng]) -> None:
    search, _, _ = web
    with lynkr([Reply(text="ok")], search) as (url, fake):
        sdk = anthropic.Anthropic(base_url=url, api_key="dummy", max_retries=0)
        raw = sdk.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            tools=[BASH, WEB_FETCH],  # type: ignore[list-item]
            messages=[{"role": "user", "content": "hi"}],
        )
    assert "skipped=web_fetch" in raw.headers["x-lynkr-tools"]
    offered = [t["function"]["name"] for t in fake.calls[0].body["tools"]]
    assert offered == ["Bash", "WebFetch", "web_search"]
