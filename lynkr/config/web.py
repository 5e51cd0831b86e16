"""Web tool settings: the original's ``WEB_SEARCH_*`` variables, and the fetch limits.

Read from ``Settings.environ`` (``web_settings(Env(settings.environ))``), like memory's, so
nothing else in the configuration has to know about the web tools.

Defaults differ from the original on purpose (docs/tools.md): with nothing set no web tool is
offered (the original assumed a SearxNG at ``http://localhost:8888/search`` and offered both
tools, failing every search without one); ``web_fetch`` never reaches loopback, private,
link-local or metadata addresses unless ``WEB_FETCH_ALLOWED_NETWORKS`` lets it.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@attrs.frozen
class WebSettings:
    search_endpoint: str | None = None  # WEB_SEARCH_ENDPOINT: a SearxNG /search URL
    # WEB_SEARCH_ALLOWED_HOSTS: names web_fetch may reach ("*" any, "*.example.com" subdomains);
    # empty: any public host
    allowed_hosts: tuple[str, ...] = ()
    timeout_s: float = 10.0  # WEB_SEARCH_TIMEOUT_MS: one call, DNS and redirects included
    max_chars: int = 10_000  # WEB_FETCH_BODY_PREVIEW_MAX: text handed to the model per call
    max_bytes: int = 2_000_000  # WEB_FETCH_MAX_BYTES: bytes read from the network at most
    max_redirects: int = 5  # WEB_FETCH_MAX_REDIRECTS
    # WEB_FETCH_ALLOWED_NETWORKS: address ranges exempt from the SSRF guard (dangerous)
    allowed_networks: tuple[Network, ...] = ()

    @property
    def search_enabled(self) -> bool:
        return self.search_endpoint is not None

    @property
    def fetch_enabled(self) -> bool:
        return self.search_endpoint is not None or bool(self.allowed_hosts)


def _host(item: str) -> str:
    host = item.strip().lower().rstrip(".")
    if ":" in host:  # only an IPv6 literal may hold a colon: host:port is a mistake
        try:
            return str(ipaddress.IPv6Address(host.strip("[]")))
        except ValueError:
            pass
    if not host or any(c in host for c in "/@:? "):
        raise SettingsError(
            f"WEB_SEARCH_ALLOWED_HOSTS lists host names (no scheme, port or "
            f"path), got {item.strip()!r}"
        )
    return host


def _hosts(env: Env) -> tuple[str, ...]:
    raw = env.str("WEB_SEARCH_ALLOWED_HOSTS") or ""
    return tuple(_host(item) for item in raw.split(",") if item.strip())


def _networks(env: Env) -> tuple[Network, ...]:
    raw = env.str("WEB_FETCH_ALLOWED_NETWORKS") or ""
    networks = []
    for item in (n.strip() for n in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"WEB_FETCH_ALLOWED_NETWORKS must list addresses or CIDR "
                f"ranges (127.0.0.1/32, 10.1.0.0/16), got {item!r}"
            ) from None
    return tuple(networks)


def web_settings(env: Env) -> WebSettings:
    endpoint = env.str("WEB_SEARCH_ENDPOINT")
    return WebSettings(
        search_endpoint=env.url("WEB_SEARCH_ENDPOINT", endpoint) if endpoint else None,
        allowed_hosts=_hosts(env),
        timeout_s=env.int("WEB_SEARCH_TIMEOUT_MS", 10_000, minimum=100) / 1000,
        max_chars=env.int("WEB_FETCH_BODY_PREVIEW_MAX", 10_000, minimum=200),
        max_bytes=env.int("WEB_FETCH_MAX_BYTES", 2_000_000, minimum=1024),
        max_redirects=env.int("WEB_FETCH_MAX_REDIRECTS", 5, minimum=0),
        allowed_networks=_networks(env),
    )
