"""Which hosts and addresses ``web_fetch`` may reach: the SSRF rules, as pure functions.

Assumes: hosts as httpx parses them (lower case, IPv6 without brackets, IDNA applied).
Guarantees: a host in any numeric form a resolver or a browser reads as an address (decimal
``2130706433``, octal ``0177.0.0.1``, hex ``0x7f.1``, short ``127.1``) is read as that
address, never looked up as a name; an address is public only when it is globally routable and
neither loopback, private, link-local (cloud metadata included), carrier-grade NAT, multicast,
reserved nor unspecified, and an IPv6 address that embeds an IPv4 one (mapped ``::ffff:``,
NAT64, 6to4, Teredo) is judged by what it embeds; every refusal names its reason.
Never: does I/O; exempts anything the operator did not list in ``WEB_FETCH_ALLOWED_NETWORKS``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import unquote

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# names that point inside the machine or its cloud, refused before any lookup unless the
# operator lists the exact name in WEB_SEARCH_ALLOWED_HOSTS
RESERVED_NAMES = frozenset(
    {
        "localhost",
        "metadata",
        "metadata.goog",
        "instance-data",
        "metadata.google.internal",
        "metadata.azure.internal",
    }
)
RESERVED_SUFFIXES = (".localhost", ".internal", ".local", ".home.arpa")
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


class HostError(ValueError):
    """A host that cannot be judged safely (an ambiguous numeric form)."""


def _number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        try:
            return int(part, 8)
        except ValueError:
            raise HostError(f"{part!r} is neither octal nor decimal") from None
    return int(part)


def numeric_host(host: str) -> IPAddress | None:
    """The address ``host`` denotes when it is numeric, in every form ``inet_aton`` reads;
    None for a name. Raises ``HostError`` for a numeric host that no form reads."""
    host = unquote(host).strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":  # "127.0.0.1." is still the address
        parts.pop()
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    values = [_number(p) for p in parts]
    last_bits = 32 - 8 * (len(values) - 1)
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        raise HostError(f"{host!r} is out of range for an IPv4 address")
    value = values[-1]
    for index, byte in enumerate(values[:-1]):
        value |= byte << (24 - 8 * index)
    return ipaddress.IPv4Address(value)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (NAT64, 6to4, Teredo's server), if any."""
    if any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[0]
    return None


def _ipv4_problem(ip: ipaddress.IPv4Address) -> str | None:
    checks = (
        (ip.is_unspecified or ip in ipaddress.IPv4Network("0.0.0.0/8"), "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip in METADATA, "a cloud metadata service"),
        (ip.is_link_local, "link-local"),
        (ip in CGNAT, "carrier-grade NAT (shared address space)"),
        (ip.is_multicast, "multicast"),
        (ip == ipaddress.IPv4Address("255.255.255.255"), "broadcast"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for failed, reason in checks if failed), None)


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` is no place for ``web_fetch`` to connect to; None for a public address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _ipv4_problem(ip)
    if ip.ipv4_mapped is not None:
        return f"an IPv4-mapped IPv6 address (of {ip.ipv4_mapped})"
    inner = embedded_ipv4(ip)
    if inner is not None:
        problem = _ipv4_problem(inner)
        if problem is not None:
            return f"an IPv6 address embedding {inner}, which is {problem}"
        if any(ip in net for net in NAT64):  # DNS64 on an IPv6-only network: a public host
            return None
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.scope_id is not None or ip.is_link_local, "link-local"),
        (ip in METADATA, "a cloud metadata service"),
        (ip.is_multicast, "multicast"),
        (ip.is_site_local, "site-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for failed, reason in checks if failed), None)


def refusal(ip: IPAddress, allowed: Iterable[Network]) -> str | None:
    """``address_problem`` unless the operator exempted the address's network."""
    problem = address_problem(ip)
    if problem is None or any(ip.version == n.version and ip in n for n in allowed):
        return None
    return problem


def reserved_name(host: str) -> bool:
    host = host.rstrip(".")
    return host in RESERVED_NAMES or host.endswith(RESERVED_SUFFIXES)


def host_listed(host: str, allowed_hosts: Iterable[str]) -> bool:
    """``host`` is named by WEB_SEARCH_ALLOWED_HOSTS: exactly, by ``*.suffix`` (subdomains
    only) or by ``*`` (every host)."""
    host = host.rstrip(".")
    for entry in allowed_hosts:
        if entry == "*" or entry == host:
            return True
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
    return False
