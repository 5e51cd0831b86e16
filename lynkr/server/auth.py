"""The server's key gate: who is asking, whether their key is good, whether they are within
their limits and budget. The rules live in ``auth/`` (keys, the store) and ``governance/``
(buckets, budgets, headers); this is the small ASGI hook in front of the routes.

Every ``/v1/`` path asks for a key when keys are on (health and metrics do not). A missing,
wrong or revoked key is a 401 in the client's dialect with a request id; the key itself is
never logged and is taken out of the request's headers before any route sees it, so nothing
downstream can forward it. The key's name travels in the ASGI scope (``USER``) onto the
request's record, and the usage the upstream reports is booked to it as the answer goes out
(``spending.UsageTap``: to its tokens-per-minute bucket, and to the usage ledger, which
budgets sum). Budgets (the key's, the session's) are checked only when a request starts: a
stream in flight is never cut. With keys off, a session budget alone still runs this gate.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import trio
from prometheus_client import Counter

from lynkr.auth.keys import ApiKey, presented_key
from lynkr.auth.store import KeyStore
from lynkr.config.settings import Settings
from lynkr.governance.headers import ratelimit_headers
from lynkr.governance.limits import LocalLimiter
from lynkr.model.errors import RateLimited, Unauthorized
from lynkr.observability.cost import PriceTable
from lynkr.observability.metrics import Metrics
from lynkr.ports import RateLimiter, UsageLedger
from lynkr.server.asgi import Message, Receive, Scope, Send, header, request_id
from lynkr.server.errors import client_dialect, send_error
from lynkr.server.spending import Spending, UsageTap
from lynkr.stages.exchange import Dialect

log = logging.getLogger("lynkr.auth")
USER = "lynkr.user"  # the ASGI scope entry naming the key that made the request
LIMITED = frozenset({"/v1/messages", "/v1/chat/completions", "/v1/responses"})
SECRET_HEADERS = frozenset({b"authorization", b"x-api-key"})


class Access:
    """The key store, the limiter and what keys and sessions spend, with their metrics.
    ``keys`` is False when only a session budget is on (no key asked for)."""

    def __init__(self, store: KeyStore, limiter: RateLimiter, metrics: Metrics,
                 spending: Spending, keys: bool = True) -> None:
        self.store, self.limiter, self.spending, self.keys = store, limiter, spending, keys
        registry = metrics.registry
        self.requests = Counter("lynkr_key_requests_total", "Requests per inbound key",
                                ["key", "outcome"], registry=registry)
        self.refused = Counter("lynkr_auth_failures_total", "Requests refused a 401",
                               ["reason"], registry=registry)

    def tap(self, user: str | None, session: str | None, provider: str, model: str
            ) -> UsageTap:
        """The tap that books an answer's reported usage as it goes out."""
        charge = None
        if user:
            def charge(tokens: int) -> None:
                self.limiter.charge(user, tokens, trio.current_time())
        return UsageTap(self.spending, user or "", session, provider, model, charge)


def build_access(settings: Settings, metrics: Metrics, prices: PriceTable | None = None,
                 limiter: RateLimiter | None = None,
                 ledger: Callable[[UsageLedger], UsageLedger] = lambda local: local
                 ) -> Access | None:
    """The gate's state, or None when keys are off and no session budget is set (see
    ``config/access.py``); ``limiter`` and ``ledger`` (the key database's, wrapped) are the
    shared ones (``server/shared_state.py``), else this process's and this host's."""
    config = settings.access
    keys = config.mode == "keys" or (config.mode == "auto"
                                     and Path(config.keys_db_path).is_file())
    if not keys and not config.session_budget:
        return None
    store = KeyStore(config.keys_db_path)
    if config.mode == "auto" and keys and not store.any_active():
        keys = False
        if not config.session_budget:
            store.close()
            return None
    spending = Spending(ledger(store.ledger), prices, config, metrics)
    return Access(store, limiter or LocalLimiter(), metrics, spending, keys)


class KeyGate:
    def __init__(self, app: object, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)  # type: ignore[operator]
            return
        dialect = client_dialect(scope)
        key = await self._key(scope, send, dialect) if self.access.keys else None
        if key is False:
            return
        limited = scope["method"] == "POST" and scope["path"] in LIMITED
        if limited:
            session = header(scope, b"x-claude-code-session-id") \
                or header(scope, b"x-session-id")
            await self.access.spending.load(key or None, session, time.time())
            spent = self.access.spending.refusal(key or None, session, time.time())
            if spent is not None:
                self.access.requests.labels(key.name if key else "-", "over_budget").inc()
                await send_error(send, spent, request_id(scope), dialect)
                return
        if key and limited and (key.rpm or key.tpm):
            decision = await self.access.limiter.admit(key.name, key.rpm, key.tpm,
                                                       trio.current_time())
            headers = ratelimit_headers(decision, dialect == "anthropic", time.time())
            if not decision.allowed:
                self.access.requests.labels(key.name, "rate_limited").inc()
                per = "requests" if decision.which == "requests" else "tokens"
                limit = key.rpm if per == "requests" else key.tpm
                wait = decision.retry_after_s
                error = RateLimited(f"rate limit reached for key {key.name!r}: {limit} {per} "
                                    f"per minute; retry in {wait:.1f} s",
                                    retry_after=math.ceil(wait), headers=headers)
                await send_error(send, error, request_id(scope), dialect)
                return
            send = _with_headers(send, headers)
        if key:
            self.access.requests.labels(key.name, "admitted").inc()
        await self.app(scope, receive, send)  # type: ignore[operator]

    async def _key(self, scope: Scope, send: Send, dialect: Dialect) -> ApiKey | Literal[False]:
        """The key the request presents, taken out of its headers; False once a 401 is sent."""
        anthropic = dialect == "anthropic"
        presented = presented_key(scope["headers"], anthropic)
        key = self.access.store.find(presented) if presented else None
        if key is None:
            reason = "missing" if presented is None else "unknown_or_revoked"
            rid = request_id(scope)
            log.info("unauthorized", extra={"request_id": rid, "path": scope["path"],
                                            "reason": reason})
            self.access.refused.labels(reason).inc()
            where = "x-api-key or Authorization: Bearer" if anthropic \
                else "Authorization: Bearer"
            message = f"this proxy needs an API key ({where})" if presented is None \
                else "invalid or revoked API key"
            await send_error(send, Unauthorized(message), rid, dialect)
            return False
        scope["headers"] = [h for h in scope["headers"] if h[0] not in SECRET_HEADERS]
        scope[USER] = key.name
        return key


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)
    return sending
