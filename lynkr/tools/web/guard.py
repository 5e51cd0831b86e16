"""The SSRF guard: decides, after name resolution, the one address a fetch connects to.

Assumes: a ``Resolver`` (the port: ``SystemResolver`` in production, a table in tests).
Guarantees: a URL passes only with an http(s) scheme, no credentials, a host that
``WEB_SEARCH_ALLOWED_HOSTS`` allows and that is not a reserved name (``localhost``,
``metadata.google.internal``, ``*.internal``, ... unless listed by its exact name), and only
when EVERY address the host resolves to is public or exempted; the ``Target`` it returns pins
the address that was checked, so the connection goes there and a second lookup (DNS
rebinding) never happens.
Never: resolves a numeric host; connects anywhere itself.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Protocol

import attrs
import httpx
import trio

from lynkr.tools.web.addresses import (
    HostError,
    IPAddress,
    Network,
    host_listed,
    numeric_host,
    refusal,
    reserved_name,
)


class Refused(Exception):
    """A URL web_fetch will not fetch; the message says why, for the model to read."""


class Resolver(Protocol):
    """Host name -> the addresses it resolves to (empty or ``OSError`` when it does not)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]: ...


class SystemResolver:
    """The system's resolver (getaddrinfo, in a worker thread through trio)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        infos = await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            if address not in found:
                found.append(address)
        return found


@attrs.frozen
class Policy:
    allowed_hosts: tuple[str, ...] = ()  # empty: any host (still subject to the addresses)
    allowed_networks: tuple[Network, ...] = ()


@attrs.frozen
class Target:
    """Where one request goes: ``url`` as asked, ``addresses`` all checked (in the resolver's
    order of preference); the request is sent to one of them, never to the name."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]

    def url_at(self, address: IPAddress) -> httpx.URL:
        """The URL with its host replaced by a checked address (no lookup left to do)."""
        return self.url.copy_with(host=str(address))

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


def parse_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise Refused(f"only http:// and https:// URLs can be fetched, not {url.scheme!r}")
    if not url.host:
        raise Refused("the URL has no host")
    if url.userinfo:
        raise Refused("URLs with credentials (user:password@) are not fetched")
    return url


async def check(url: httpx.URL, policy: Policy, resolver: Resolver) -> Target:
    """The address ``url`` may be fetched from, or ``Refused`` saying why not."""
    host = url.raw_host.decode("ascii").lower()
    names = {host, url.host.lower()}
    if policy.allowed_hosts and not any(host_listed(n, policy.allowed_hosts) for n in names):
        raise Refused(f"{url.host} is not in WEB_SEARCH_ALLOWED_HOSTS")
    try:
        literal = numeric_host(host)
    except HostError as exc:
        raise Refused(f"ambiguous numeric host: {exc}") from None
    if literal is not None:
        addresses: Sequence[IPAddress] = (literal,)
    else:
        if reserved_name(host) and host.rstrip(".") not in policy.allowed_hosts:
            raise Refused(f"{url.host} names a local or cloud-internal service")
        addresses = await _resolve(resolver, host, url.port or _default_port(url))
    for address in addresses:
        reason = refusal(address, policy.allowed_networks)
        if reason is not None:
            if literal is None:
                where = f"{url.host} resolves to {address}, which"
            else:
                where = str(address) if url.host == str(address) else f"{url.host} ({address})"
            raise Refused(f"{where} is {reason}; web_fetch reaches public addresses only")
    return Target(url, tuple(addresses))


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


async def _resolve(resolver: Resolver, host: str, port: int) -> Sequence[IPAddress]:
    try:
        addresses = await resolver.resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} could not be resolved: {exc}") from None
    if not addresses:
        raise Refused(f"{host} could not be resolved: no addresses")
    return addresses
