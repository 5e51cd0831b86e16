"""The server's key gate: who is asking, whether their key is good, whether they are within
their limits and budget. The rules live in ``auth/`` (keys, the store) and ``governance/``
(buckets, budgets, headers); this is the small ASGI hook in front of the routes.

Every ``/v1/`` path asks for a key when keys are on (health and metrics do not). A missing,
wrong or revoked key is a 401 in the client's dialect with a request id; the key itself is
never logged and is taken out of the request's headers before any route sees it, so nothing
downstream can forward it. The key's name travels in the ASGI scope (``USER``) onto the
request's record, and the tokens the upstream reports are charged to it as the answer goes
out (``UsageTap``: to its tokens-per-minute bucket, and to its usage per day in the key
database, which budgets sum). Budgets are checked only when a request starts: a stream in
flight is never cut.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import trio
from prometheus_client import Counter

from lynkr.auth.keys import ApiKey, presented_key
from lynkr.auth.store import KeyStore
from lynkr.config.settings import Settings
from lynkr.governance.budget import check_budget, window_start
from lynkr.governance.headers import ratelimit_headers
from lynkr.governance.limits import LocalLimiter
from lynkr.model.errors import RateLimited, Unauthorized
from lynkr.model.events import Event, MessageDelta
from lynkr.model.response import Response
from lynkr.observability.metrics import Metrics
from lynkr.ports import RateLimiter
from lynkr.server.asgi import Receive, Scope, Send, request_id
from lynkr.server.errors import client_dialect, send_error

log = logging.getLogger("lynkr.auth")
USER = "lynkr.user"  # the ASGI scope entry naming the key that made the request
LIMITED = frozenset({"/v1/messages", "/v1/chat/completions", "/v1/responses"})
SECRET_HEADERS = frozenset({b"authorization", b"x-api-key"})


class Access:
    """The key store and the limiter, with their metrics."""

    def __init__(self, store: KeyStore, limiter: RateLimiter, metrics: Metrics) -> None:
        self.store, self.limiter = store, limiter
        registry = metrics.registry
        self.requests = Counter("lynkr_key_requests_total", "Requests per inbound key",
                                ["key", "outcome"], registry=registry)
        self.refused = Counter("lynkr_auth_failures_total", "Requests refused a 401",
                               ["reason"], registry=registry)
        self.tokens = Counter("lynkr_key_tokens_total", "Tokens the upstream reported, per key",
                              ["key"], registry=registry)

    def tap(self, user: str) -> UsageTap:
        """The tap that charges an answer's reported tokens to ``user`` as they go out."""
        return UsageTap(self, user)

    def charge(self, user: str, tokens: int) -> None:
        self.limiter.charge(user, tokens, trio.current_time())
        self.store.add_usage(user, window_start(time.time(), "day"), tokens)
        self.tokens.labels(user).inc(tokens)

    def budget_error(self, key: ApiKey) -> RateLimited | None:
        """A 429 when the key's token budget for this window is spent, else None."""
        if key.budget_tokens is None:
            return None
        now = time.time()
        used = self.store.usage(key.name, window_start(now, key.budget_window))
        verdict = check_budget(used, key.budget_tokens, now, key.budget_window)
        if verdict.allowed:
            return None
        return RateLimited(verdict.message(key.name, key.budget_window),
                           retry_after=math.ceil(verdict.resets_at - now))


class UsageTap:
    """Charges the usage an answer reports when it goes out, before the answer's last bytes
    (a client may send its next request the moment it has read them). A later usage report
    of the same answer charges only the difference."""

    wants_result = False

    def __init__(self, access: Access, user: str) -> None:
        self.access, self.user, self.charged = access, user, 0

    def observe(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, MessageDelta):
                usage = event.usage
                total = usage.input_tokens + usage.cache_read_input_tokens \
                    + usage.cache_creation_input_tokens + usage.output_tokens
                if total > self.charged:
                    self.access.charge(self.user, total - self.charged)
                    self.charged = total

    def completed(self, response: Response) -> None:
        return None


def build_access(settings: Settings, metrics: Metrics, limiter: RateLimiter | None = None
                 ) -> Access | None:
    """The gate's state, or None when keys are off (see ``config/access.py``)."""
    config = settings.access
    if config.mode == "off" or (config.mode == "auto"
                                and not Path(config.keys_db_path).is_file()):
        return None
    store = KeyStore(config.keys_db_path)
    if config.mode == "auto" and not store.any_active():
        store.close()
        return None
    return Access(store, limiter or LocalLimiter(), metrics)


class KeyGate:
    def __init__(self, app: object, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)  # type: ignore[operator]
            return
        dialect = client_dialect(scope)
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
            return
        scope["headers"] = [h for h in scope["headers"] if h[0] not in SECRET_HEADERS]
        scope[USER] = key.name
        limited = scope["method"] == "POST" and scope["path"] in LIMITED
        over_budget = self.access.budget_error(key) if limited else None
        if over_budget is not None:
            self.access.requests.labels(key.name, "over_budget").inc()
            await send_error(send, over_budget, request_id(scope), dialect)
            return
        if limited and (key.rpm or key.tpm):
            decision = await self.access.limiter.admit(key.name, key.rpm, key.tpm,
                                                 trio.current_time())
            headers = ratelimit_headers(decision, anthropic, time.time())
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
        self.access.requests.labels(key.name, "admitted").inc()
        await self.app(scope, receive, send)  # type: ignore[operator]


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: dict) -> None:  # type: ignore[type-arg]
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)
    return sending
