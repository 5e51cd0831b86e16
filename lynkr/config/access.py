"""Who may use the proxy: ``LYNKR_AUTH`` and the key database's path.

``LYNKR_AUTH=auto`` (the default) turns inbound keys on when the key database holds an active
key at start-up, so a local sidecar with no keys runs open as before; ``keys`` requires a key
even when none exist yet (every request is then a 401); ``off`` never asks for one.
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


def access_settings(env: Env) -> AccessSettings:
    return AccessSettings(mode=env.choice("LYNKR_AUTH", "auto", MODES),
                          keys_db_path=env.str("LYNKR_KEYS_DB_PATH") or "data/keys.db")
