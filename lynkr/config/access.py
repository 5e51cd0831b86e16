"""Who may use the proxy: ``LYNKR_AUTH`` and the key database's path.

``LYNKR_AUTH=auto`` (the default) turns inbound keys on when the key database holds an active
key at start-up, so a local sidecar with no keys runs open as before; ``keys`` requires a key
even when none exist yet (every request is then a 401); ``off`` never asks for one.

A session budget (``LYNKR_SESSION_BUDGET_USD`` / ``_TOKENS``, per ``_WINDOW``) holds each session
(``x-claude-code-session-id`` or ``x-session-id``) of each key to it, with or without keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from lynkr.config.settings import Env

MODES = ("auto", "keys", "off")


@attrs.frozen
class AccessSettings:
    mode: str = "auto"  # LYNKR_AUTH
    keys_db_path: str = "data/keys.db"  # LYNKR_KEYS_DB_PATH
    session_budget_usd: float | None = None  # LYNKR_SESSION_BUDGET_USD
    session_budget_tokens: int | None = None  # LYNKR_SESSION_BUDGET_TOKENS
    session_budget_window: str = "day"  # LYNKR_SESSION_BUDGET_WINDOW

    @property
    def session_budget(self) -> bool:
        return self.session_budget_usd is not None or self.session_budget_tokens is not None


def access_settings(env: Env) -> AccessSettings:
    usd = env.number("LYNKR_SESSION_BUDGET_USD", 0.0, 0.0, 1e9, above_low=True) \
        if env.str("LYNKR_SESSION_BUDGET_USD") else None
    tokens = env.int("LYNKR_SESSION_BUDGET_TOKENS", 0, minimum=1) \
        if env.str("LYNKR_SESSION_BUDGET_TOKENS") else None
    return AccessSettings(mode=env.choice("LYNKR_AUTH", "auto", MODES),
                          keys_db_path=env.str("LYNKR_KEYS_DB_PATH") or "data/keys.db",
                          session_budget_usd=usd, session_budget_tokens=tokens,
                          session_budget_window=env.choice("LYNKR_SESSION_BUDGET_WINDOW", "day",
                                                           ("day", "month")))
