"""The SSRF guard and the fetch loop over a table resolver and httpx.MockTransport: what is
refused (and why), where the request really goes, and every redirect checked again."""

from __future__ import annotations

import ipaddress
import re

import httpx
import pytest
from harness.web_fakes import Recorder, TableResolver, html, redirect
from hypothesis import given
from hypothesis import strategies as st

from lynkr.tools.web.addresses import address_problem
from lynkr.tools.web.fetch import FetchError, Limits, fetch
from lynkr.tools.web.guard import Policy, Refused, check, parse_url

PUBLIC = "93.184.215.14"
RESOLVER_TABLE = {
    "example.com": [PUBLIC],
    "www.example.com": [PUBLIC],
    "two.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", PUBLIC],
    "intranet.test": ["10.0.0.5"],
    "mixed.test": [PUBLIC, "10.0.0.5"],  # one bad address spoils the host
    "loop6.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "meta.test": ["169.254.169.254"],
    "cgnat.test": ["100.64.1.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],
    "rebind.test": [[PUBLIC], ["127.0.0.1"]],  # public for the check, then loopback
    "empty.test": [],
}


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is loopback"),
        ("http://2130706433/", "2130706433 (127.0.0.1) is loopback"),
        ("http://0x7f000001/", "0x7f000001 (127.0.0.1) is loopback"),
        ("http://0x7f.0.0.1/", "0x7f.0.0.1 (127.0.0.1) is loopback"),
        ("http://127.1:8080/", "127.1 (127.0.0.1) is loopback"),
        ("http://0177.0.0.1/", "not a valid URL"),  # httpx itself refuses octal dotted quads
        ("http://0x7f.0.0.1.0/", "could not be resolved"),  # five parts: a name, not resolvable
        ("http://08.1/", "ambiguous numeric host"),
        ("http://[::1]/", "::1 is loopback"),
        ("http://[::]/", ":: is unspecified"),
        ("http://0.0.0.0:8081/", "0.0.0.0 is unspecified"),
        ("http://0/", "0 (0.0.0.0) is unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata service"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata service"),
        ("http://metadata.google.internal/computeMetadata/v1/", "names a local or cloud-internal"),
        ("http://metadata/", "names a local or cloud-internal"),
        ("http://localhost:8081/", "names a local or cloud-internal"),
        ("http://app.localhost/", "names a local or cloud-internal"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped IPv6 address (of 127.0.0.1)"),
        ("http://[::ffff:7f00:1]/", "IPv4-mapped IPv6 address (of 127.0.0.1)"),
        ("http://[::ffff:169.254.169.254]/", "IPv4-mapped IPv6 address (of 169.254.169.254)"),
        ("http://[fe80::1%25eth0]/", "is link-local"),
        ("http://10.0.0.1/", "10.0.0.1 is private"),
        ("http://192.168.1.1/", "192.168.1.1 is private"),
        ("http://100.64.0.1/", "is carrier-grade NAT"),
        ("http://224.0.0.1/", "is multicast"),
        ("http://intranet.test/", "intranet.test resolves to 10.0.0.5, which is private"),
        ("http://mixed.test/", "mixed.test resolves to 10.0.0.5, which is private"),
        ("http://loop6.test/", "resolves to ::1, which is loopback"),
        ("http://mapped.test/", "IPv4-mapped IPv6 address"),
        ("http://meta.test/", "resolves to 169.254.169.254, which is a cloud metadata service"),
        ("http://cgnat.test/", "carrier-grade NAT"),
        ("http://nat64.test/", "embedding 169.254.169.254, which is a cloud metadata service"),
        ("http://nowhere.test/", "nowhere.test could not be resolved"),
        ("http://empty.test/", "could not be resolved: no addresses"),
        ("file:///etc/passwd", "only http:// and https:// URLs"),
        ("gopher://example.com/", "only http:// and https:// URLs"),
        ("ftp://example.com/", "only http:// and https:// URLs"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///path", "no host"),
        ("not a url", "only http:// and https:// URLs"),
    ],
)
async def test_refused(url: str, refusal: str) -> None:
    with pytest.raises(Refused, match=None) as caught:
        await check(parse_url(url), Policy(), TableResolver(RESOLVER_TABLE))
    assert refusal in str(caught.value)


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://example.com/a?b=c", [PUBLIC]),
        ("http://two.example.com:8080/", ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", PUBLIC]),
        (f"http://{PUBLIC}/", [PUBLIC]),
        (f"http://{int(ipaddress.ip_address(PUBLIC))}/", [PUBLIC]),  # in decimal
    ],
)
async def test_allowed_urls_are_pinned_to_every_checked_address(
    url: str, addresses: list[str]
) -> None:
    target = await check(parse_url(url), Policy(), TableResolver(RESOLVER_TABLE))
    assert target.addresses == tuple(ipaddress.ip_address(a) for a in addresses)


async def test_numeric_hosts_are_never_looked_up() -> None:
    resolver = TableResolver(RESOLVER_TABLE)
    await check(parse_url(f"http://{PUBLIC}/"), Policy(), resolver)
    with pytest.raises(Refused):
        await check(parse_url("http://2130706433/"), Policy(), resolver)
    assert resolver.calls == []


@pytest.mark.parametrize(
    ("url", "allowed", "refusal"),
    [
        ("https://example.com/", ("docs.python.org",), "not in WEB_SEARCH_ALLOWED_HOSTS"),
        ("https://www.example.com/", ("*.example.com",), None),
        ("https://example.com/", ("*.example.com",), "not in WEB_SEARCH_ALLOWED_HOSTS"),
        # a listed name still has to resolve somewhere public
        ("http://intranet.test/", ("intranet.test",), "resolves to 10.0.0.5, which is private"),
        # an exactly listed reserved name is looked up, and judged by its address
        (
            "http://metadata.google.internal/",
            ("metadata.google.internal",),
            "could not be resolved",
        ),
        ("http://localhost/", ("*",), "names a local or cloud-internal service"),
    ],
)
async def test_allowed_hosts_limit_names_never_addresses(
    url: str, allowed: tuple[str, ...], refusal: str | None
) -> None:
    policy = Policy(allowed_hosts=allowed)
    if refusal is None:
        await check(parse_url(url), policy, TableResolver(RESOLVER_TABLE))
        return
    with pytest.raises(Refused) as caught:
        await check(parse_url(url), policy, TableResolver(RESOLVER_TABLE))
    assert refusal in str(caught.value)


async def test_allowed_networks_exempt_only_themselves() -> None:
    policy = Policy(allowed_networks=(ipaddress.ip_network("10.0.0.0/24"),))
    resolver = TableResolver(RESOLVER_TABLE)
    target = await check(parse_url("http://intranet.test/"), policy, resolver)
    assert target.addresses == (ipaddress.ip_address("10.0.0.5"),)
    with pytest.raises(Refused, match=re.escape("10.0.1.1 is private")):
        await check(parse_url("http://10.0.1.1/"), policy, resolver)


# -- the fetch loop: where requests really go ----------------------------------------------


async def test_the_request_goes_to_the_checked_address_with_the_name_in_host_and_sni() -> None:
    recorder = Recorder(lambda request: html("<p>hi</p>"))
    async with recorder.client() as client:
        page = await fetch(
            client,
            "https://example.com:8443/p?q=1",
            Policy(),
            TableResolver(RESOLVER_TABLE),
            Limits(),
        )
    (request,) = recorder.requests
    assert str(request.url) == f"https://{PUBLIC}:8443/p?q=1"
    assert request.headers["host"] == "example.com:8443"
    assert request.extensions["sni_hostname"] == "example.com"
    assert "cookie" not in request.headers and "authorization" not in request.headers
    assert (page.final_url, page.status, page.text) == (
        "https://example.com:8443/p?q=1",
        200,
        "<p>hi</p>",
    )


async def test_rebinding_cannot_swap_the_address_after_the_check() -> None:
    """The resolver answers public, then loopback: the one lookup is the one connected to."""
    resolver = TableResolver(RESOLVER_TABLE)
    recorder = Recorder(lambda request: html("<p>public</p>"))
    async with recorder.client() as client:
        await fetch(client, "http://rebind.test/", Policy(), resolver, Limits())
    assert resolver.calls == ["rebind.test"]
    assert [r.url.host for r in recorder.requests] == [PUBLIC]


async def test_a_redirect_back_to_a_rebound_name_is_checked_again() -> None:
    resolver = TableResolver(RESOLVER_TABLE)
    recorder = Recorder(lambda request: redirect("/next"))
    async with recorder.client() as client:
        with pytest.raises(
            Refused,
            match=re.escape(
                "redirected to http://rebind.test/next: rebind.test resolves to 127.0.0.1, "
                "which is loopback"
            ),
        ):
            await fetch(client, "http://rebind.test/", Policy(), resolver, Limits())
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("location", "refusal"),
    [
        ("http://127.0.0.1:8081/admin", "127.0.0.1 is loopback"),
        ("http://2130706433/", "(127.0.0.1) is loopback"),
        ("http://[::1]/", "::1 is loopback"),
        ("http://169.254.169.254/latest/meta-data/iam", "cloud metadata service"),
        ("http://metadata.google.internal/", "local or cloud-internal service"),
        ("http://intranet.test/", "which is private"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("//localhost/x", "local or cloud-internal service"),  # scheme-relative
    ],
)
async def test_redirects_to_private_places_are_refused(location: str, refusal: str) -> None:
    recorder = Recorder(lambda request: redirect(location, 301))
    async with recorder.client() as client:
        with pytest.raises(Refused) as caught:
            await fetch(
                client,
                "http://example.com/start",
                Policy(),
                TableResolver(RESOLVER_TABLE),
                Limits(),
            )
    assert str(caught.value).startswith("redirected to ")
    assert refusal in str(caught.value)
    assert [r.url.host for r in recorder.requests] == [PUBLIC]  # never a second request


async def test_relative_redirects_resolve_against_the_name_not_the_address() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/dir/a":
            return redirect("b?x=1", 307)
        return html("<p>done</p>")

    recorder = Recorder(handler)
    async with recorder.client() as client:
        page = await fetch(
            client, "http://example.com/dir/a", Policy(), TableResolver(RESOLVER_TABLE), Limits()
        )
    assert page.final_url == "http://example.com/dir/b?x=1"
    assert page.redirects == ("http://example.com/dir/b?x=1",)
    assert recorder.requests[1].headers["host"] == "example.com"


async def test_redirects_are_bounded() -> None:
    recorder = Recorder(lambda request: redirect(f"/{len(recorder.requests)}"))
    async with recorder.client() as client:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            await fetch(
                client,
                "http://example.com/",
                Policy(),
                TableResolver(RESOLVER_TABLE),
                Limits(max_redirects=3),
            )
    assert len(recorder.requests) == 4


async def test_the_next_checked_address_is_tried_when_one_refuses_the_connection() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("2606:"):
            raise httpx.ConnectError("network unreachable", request=request)
        return html("<p>over IPv4</p>")

    recorder = Recorder(handler)
    async with recorder.client() as client:
        page = await fetch(
            client, "http://two.example.com/", Policy(), TableResolver(RESOLVER_TABLE), Limits()
        )
    assert page.text == "<p>over IPv4</p>"
    assert [r.url.host for r in recorder.requests] == [
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        PUBLIC,
    ]


@given(st.integers(min_value=0, max_value=2**32 - 1), st.sampled_from(["dec", "hex", "short"]))
async def test_any_numeric_host_is_judged_by_the_address_it_denotes(value: int, form: str) -> None:
    address = ipaddress.IPv4Address(value)
    host = {"dec": str(value), "hex": hex(value), "short": f"{value >> 24}.{value & 0xFFFFFF}"}[
        form
    ]
    resolver = TableResolver({})
    try:
        target = await check(parse_url(f"http://{host}/"), Policy(), resolver)
    except Refused as refused:
        assert address_problem(address) is not None, str(refused)
    else:
        assert address_problem(address) is None
        assert target.addresses == (address,)
    assert resolver.calls == []
