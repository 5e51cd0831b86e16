"""Inbound keys as values: making one, hashing it, and finding the one a client presents.

A key is ``lk-`` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored: with
that much entropy a plain hash cannot be reversed or guessed, and no salt or slow hash is
needed (GitHub and Stripe store their tokens the same way). Clients present a key the way
their SDK sends the provider's: Anthropic clients in ``x-api-key`` or ``Authorization:
Bearer``, OpenAI clients in ``Authorization: Bearer``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

import attrs

PREFIX = "lk-"
SHOWN = 10  # characters of a key kept in clear for people to tell keys apart ("lk-AbC1234")


@attrs.frozen
class ApiKey:
    """A stored key: its name (the user), limits and state; never the key itself."""

    name: str
    key_hash: str
    shown: str  # the key's first characters, for ``lynkr keys list``
    created_at: float
    revoked_at: float | None = None
    rpm: int | None = None  # requests per minute
    tpm: int | None = None  # tokens per minute (input + output, as the upstream reports)
    budget_tokens: int | None = None  # tokens per budget window
    budget_window: str = "month"  # "day" or "month" (UTC)
    budget_usd: float | None = None  # US dollars per budget window (config/prices.yaml)

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def same_hash(stored: str, presented: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


def presented_key(headers: Iterable[tuple[bytes, bytes]], anthropic: bool) -> str | None:
    """The key a client sent: ``x-api-key`` (Anthropic clients only) or a bearer token."""
    api_key = bearer = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer = token.strip()
        elif name == b"x-api-key" and anthropic:
            api_key = value.decode("latin-1").strip() or None
    return api_key or bearer
