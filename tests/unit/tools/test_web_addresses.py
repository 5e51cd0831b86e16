"""The SSRF rules of lynkr/tools/web/addresses.py, table-driven: every numeric spelling of an
address is read as that address, and every non-public range is refused with its reason."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lynkr.tools.web.addresses import (
    HostError,
    address_problem,
    host_listed,
    numeric_host,
    refusal,
    reserved_name,
)

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f000001", "127.0.0.1"),  # hex, one part
        ("0x7f.0.0.1", "127.0.0.1"),  # hex first part
        ("0177.0.0.1", "127.0.0.1"),  # octal first part
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short: the last part fills the rest
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),  # trailing dot
        ("0", "0.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
        ("3232235521", "192.168.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%25eth0", "fe80::1%eth0"),  # a zone, percent-encoded as in a URL
        ("93.184.215.14", "93.184.215.14"),
    ],
)
def test_numeric_hosts_are_read_as_the_address_they_denote(host: str, address: str) -> None:
    assert numeric_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "cafe",
        "0x7f.example",
        "1.2.3.4.5",
        "deadbeef.ad",
        "metadata.google.internal",
        "localhost",
    ],
)
def test_names_are_not_numeric(host: str) -> None:
    assert numeric_host(host) is None


@pytest.mark.parametrize(
    "host", ["08.0.0.1", "256.0.0.1", "1.2.3.256", "1.2.65536", "4294967296", "0x1.0x100.0.0"]
)
def test_a_numeric_host_no_resolver_reads_the_same_way_is_refused(host: str) -> None:
    with pytest.raises(HostError):
        numeric_host(host)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "a cloud metadata service"),
        ("169.254.170.2", "a cloud metadata service"),
        ("100.100.100.200", "a cloud metadata service"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT (shared address space)"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),  # documentation (TEST-NET-1)
        ("198.18.0.1", "private"),  # benchmarking
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fd00:ec2::254", "a cloud metadata service"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("2001:db8::1", "private"),  # documentation
        ("::ffff:127.0.0.1", "an IPv4-mapped IPv6 address (of 127.0.0.1)"),
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address (of 8.8.8.8)"),
        ("::ffff:169.254.169.254", "an IPv4-mapped IPv6 address (of 169.254.169.254)"),
        ("64:ff9b::7f00:1", "an IPv6 address embedding 127.0.0.1, which is loopback"),
        (
            "64:ff9b::a9fe:a9fe",
            "an IPv6 address embedding 169.254.169.254, which is a cloud metadata service",
        ),
        ("2002:c0a8:0101::1", "an IPv6 address embedding 192.168.1.1, which is private"),
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ],
)
def test_non_public_addresses_are_refused_with_their_reason(address: str, reason: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "151.101.1.69",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_only_the_listed_networks_are_exempt() -> None:
    allowed = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.1.0.0/16"))
    assert refusal(LOOPBACK, allowed) is None
    assert refusal(ipaddress.ip_address("10.1.2.3"), allowed) is None
    assert refusal(ipaddress.ip_address("127.0.0.2"), allowed) == "loopback"
    assert refusal(ipaddress.ip_address("10.2.0.1"), allowed) == "private"
    assert refusal(ipaddress.ip_address("::1"), allowed) == "loopback"  # v4 ranges never v6
    assert refusal(ipaddress.ip_address("169.254.169.254"), allowed) == "a cloud metadata service"


@pytest.mark.parametrize(
    ("host", "reserved"),
    [
        ("localhost", True),
        ("LOCALHOST".lower(), True),
        ("api.localhost", True),
        ("metadata.google.internal", True),
        ("metadata.google.internal.", True),
        ("metadata", True),
        ("metadata.goog", True),
        ("instance-data", True),
        ("printer.local", True),
        ("router.home.arpa", True),
        ("db.corp.internal", True),
        ("example.com", False),
        ("localhost.example.com", False),
        ("internal.example", False),
    ],
)
def test_reserved_names(host: str, reserved: bool) -> None:
    assert reserved_name(host) is reserved


@pytest.mark.parametrize(
    ("host", "allowed", "listed"),
    [
        ("docs.python.org", ("docs.python.org",), True),
        ("docs.python.org.", ("docs.python.org",), True),
        ("python.org", ("docs.python.org",), False),
        ("evil-docs.python.org", ("docs.python.org",), False),
        ("a.b.example.com", ("*.example.com",), True),
        ("example.com", ("*.example.com",), False),  # subdomains only
        ("notexample.com", ("*.example.com",), False),
        ("anything.test", ("*",), True),
    ],
)
def test_allowed_hosts(host: str, allowed: tuple[str, ...], listed: bool) -> None:
    assert host_listed(host, allowed) is listed


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_numeric_spelling_of_an_address_is_that_address(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    octets = [int(b) for b in address.packed]
    spellings = [
        str(value),
        hex(value),
        ".".join(oct(o).replace("0o", "0") for o in octets),
        ".".join(hex(o) for o in octets),
        f"{octets[0]}.{value & 0xFFFFFF}",
        f"{octets[0]}.{octets[1]}.{value & 0xFFFF}",
    ]
    assert {numeric_host(s) for s in spellings} == {address}
