"""The web ToolBox (lynkr/tools/web/box.py): what it offers for which settings, arguments
checked before any I/O, paging through long pages, and the time bound on trio's MockClock."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from harness.web_fakes import Recorder, TableResolver, body, html

from lynkr.config.errors import SettingsError
from lynkr.config.settings import Env
from lynkr.config.web import WebSettings, web_settings
from lynkr.tools.port import ToolBox, ToolContext, ToolOutcome
from lynkr.tools.web import WEB_FETCH, WEB_SEARCH, WebBox

CONTEXT = ToolContext("req-1", None, "default", "", 0.0)
RESOLVER = TableResolver({"example.com": ["93.184.215.14"], "search.test": ["10.0.0.2"]})


def box(handler: Any = None, **fields: Any) -> WebBox:
    recorder = Recorder(handler or (lambda request: html("<p>x</p>")))
    return WebBox(WebSettings(**{"allowed_hosts": ("*",), **fields}), recorder.client(), RESOLVER)


@pytest.mark.parametrize(
    ("environ", "offered"),
    [
        ({}, []),
        ({"WEB_SEARCH_ENDPOINT": "http://localhost:8888/search"}, [WEB_SEARCH, WEB_FETCH]),
        ({"WEB_SEARCH_ALLOWED_HOSTS": "docs.python.org, *.github.com"}, [WEB_FETCH]),
        ({"WEB_SEARCH_ALLOWED_HOSTS": "*"}, [WEB_FETCH]),
        ({"WEB_FETCH_ALLOWED_NETWORKS": "10.0.0.0/8"}, []),  # an exemption offers nothing
    ],
)
def test_the_settings_decide_the_tools(environ: dict[str, str], offered: list[Any]) -> None:
    web: ToolBox = WebBox(web_settings(Env(environ)), httpx.AsyncClient(), RESOLVER)
    assert (web.name, list(web.tools())) == ("web", offered)


def test_settings_from_the_environment() -> None:
    settings = web_settings(
        Env(
            {
                "WEB_SEARCH_ENDPOINT": "http://searxng:8080/search/",
                "WEB_SEARCH_ALLOWED_HOSTS": "Docs.Python.org., *.github.com, [::1]",
                "WEB_SEARCH_TIMEOUT_MS": "2500",
                "WEB_FETCH_BODY_PREVIEW_MAX": "4000",
                "WEB_FETCH_MAX_BYTES": "65536",
                "WEB_FETCH_MAX_REDIRECTS": "0",
                "WEB_FETCH_ALLOWED_NETWORKS": "127.0.0.1, 10.1.0.0/16",
            }
        )
    )
    assert settings == WebSettings(
        search_endpoint="http://searxng:8080/search",
        allowed_hosts=("docs.python.org", "*.github.com", "::1"),
        timeout_s=2.5,
        max_chars=4000,
        max_bytes=65536,
        max_redirects=0,
        allowed_networks=(
            ipaddress.ip_network("127.0.0.1/32"),
            ipaddress.ip_network("10.1.0.0/16"),
        ),
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WEB_SEARCH_ENDPOINT": "searxng:8080"}, "WEB_SEARCH_ENDPOINT must be an http"),
        ({"WEB_SEARCH_ALLOWED_HOSTS": "https://docs.python.org/"}, "host names (no scheme"),
        ({"WEB_SEARCH_ALLOWED_HOSTS": "example.com:8080"}, "host names (no scheme"),
        ({"WEB_FETCH_ALLOWED_NETWORKS": "intranet"}, "must list addresses or CIDR ranges"),
        ({"WEB_SEARCH_TIMEOUT_MS": "soon"}, "WEB_SEARCH_TIMEOUT_MS must be a whole number"),
    ],
)
def test_bad_settings_name_their_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        web_settings(Env(environ))


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("web_search", {}, "web_search needs a 'query'"),
        ("web_search", {"query": "  "}, "web_search needs a 'query'"),
        ("web_search", {"query": 42}, "web_search needs a 'query'"),
        ("web_search", {"query": "x" * 1001}, "web_search needs a 'query'"),
        ("web_search", {"query": "x", "limit": 0}, "'limit' must be a whole number from 1 to 20"),
        ("web_search", {"query": "x", "limit": 21}, "'limit' must be a whole number from 1 to 20"),
        ("web_search", {"query": "x", "limit": True}, "'limit' must be a whole number"),
        ("web_search", {"query": "x", "limit": "5"}, "'limit' must be a whole number"),
        ("web_fetch", {}, "web_fetch needs a 'url'"),
        ("web_fetch", {"url": ["http://example.com"]}, "web_fetch needs a 'url'"),
        ("web_fetch", {"url": "http://example.com/" + "a" * 5000}, "web_fetch needs a 'url'"),
        ("web_fetch", {"url": "http://example.com", "offset": -1}, "'offset' must be a whole"),
        ("web_fetch", {"url": "http://example.com", "offset": 1.5}, "'offset' must be a whole"),
        ("web_shell", {"cmd": "ls"}, "web_shell is not a web tool offered here"),
    ],
)
async def test_bad_arguments_are_tool_errors_before_any_request(
    name: str, arguments: dict[str, Any], error: str
) -> None:
    recorder = Recorder(lambda request: html("<p>x</p>"))
    web = WebBox(
        WebSettings(search_endpoint="http://search.test/search"), recorder.client(), RESOLVER
    )
    outcome = await web.run(name, arguments, CONTEXT)
    assert outcome.is_error and error in outcome.text, outcome.text
    assert recorder.requests == []


async def test_a_tool_that_is_not_offered_is_not_run() -> None:
    web = box(allowed_hosts=())  # nothing configured: nothing offered
    assert await web.run("web_fetch", {"url": "http://example.com/"}, CONTEXT) == ToolOutcome(
        "web_fetch is not a web tool offered here", is_error=True
    )


async def test_long_pages_come_in_parts() -> None:
    text = "".join(f"{n:04d}." for n in range(600))  # 3000 characters
    web = box(lambda request: body(text.encode(), content_type="text/plain"), max_chars=1000)
    first = await web.run("web_fetch", {"url": "http://example.com/t"}, CONTEXT)
    last = await web.run("web_fetch", {"url": "http://example.com/t", "offset": 2500}, CONTEXT)
    past = await web.run("web_fetch", {"url": "http://example.com/t", "offset": 9000}, CONTEXT)
    assert first.text == (
        "URL: http://example.com/t\nStatus: 200; Content-Type: text/plain\n\n"
        + text[:1000]
        + "\n[characters 0-1000 of 3000; call web_fetch with "
        "offset=1000 for more]"
    )
    assert last.text.endswith(text[2500:] + "\n[characters 2500-3000 of 3000]")
    assert past.text.endswith("[offset 9000 is past the end: the text has 3000 characters]")
    assert not (first.is_error or last.is_error or past.is_error)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            html("<script>app()</script><div id=root></div>"),
            "[the page has no text without JavaScript, which web_fetch does not run]",
        ),
        (html("<h1>Gone</h1>", status=410), "web_fetch got HTTP 410"),
    ],
)
async def test_empty_and_failed_pages_say_so(response: httpx.Response, expected: str) -> None:
    outcome = await box(lambda request: response).run(
        "web_fetch", {"url": "http://example.com/"}, CONTEXT
    )
    assert expected in outcome.text
    assert outcome.is_error is ("HTTP" in expected)


async def test_every_call_is_bounded_in_time(autojump_clock: trio.testing.MockClock) -> None:
    class Stalling:  # a resolver that never answers, then a search that never answers
        async def resolve(self, host: str, port: int) -> list[Any]:
            await trio.sleep_forever()
            raise AssertionError

    async def never(request: httpx.Request) -> httpx.Response:
        await trio.sleep_forever()
        raise AssertionError

    settings = WebSettings(search_endpoint="http://search.test/search", timeout_s=10.0)
    client = httpx.AsyncClient(transport=httpx.MockTransport(never))
    web = WebBox(settings, client, Stalling())
    start = trio.current_time()
    fetched = await web.run("web_fetch", {"url": "http://example.com/"}, CONTEXT)
    searched = await web.run("web_search", {"query": "x"}, CONTEXT)
    assert fetched == ToolOutcome(
        "web_fetch was stopped after 10 s (WEB_SEARCH_TIMEOUT_MS)", is_error=True
    )
    assert searched == ToolOutcome(
        "web_search was stopped after 10 s (WEB_SEARCH_TIMEOUT_MS)", is_error=True
    )
    assert trio.current_time() - start == pytest.approx(20.0)
    assert web.timeout_s("web_fetch") == 10.0  # the loop's bound for the box's calls


async def test_refusals_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="lynkr.tools"):
        outcome = await box().run("web_fetch", {"url": "http://169.254.169.254/"}, CONTEXT)
    assert outcome.is_error
    assert [r.getMessage() for r in caplog.records] == [
        "web_fetch refused 'http://169.254.169.254/': 169.254.169.254 is a cloud metadata "
        "service; web_fetch reaches public addresses only"
    ]
    assert caplog.records[0].request_id == "req-1"
