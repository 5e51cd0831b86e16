"""Where the state several processes share lives: ``REDIS_URL`` (unset: in this process and the
SQLite files, nothing to run), ``LYNKR_REDIS_TIMEOUT_MS`` (the most one Redis command may take
before the state is served locally) and ``LYNKR_REDIS_PREFIX`` (the keys' prefix, so one Redis
can serve several deployments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env


@attrs.frozen
class SharedSettings:
    redis_url: str | None = None  # REDIS_URL
    timeout_s: float = 1.0  # LYNKR_REDIS_TIMEOUT_MS
    prefix: str = "lynkr:"  # LYNKR_REDIS_PREFIX

    @property
    def backend(self) -> str:
        return "redis" if self.redis_url else "local"


def shared_settings(env: Env) -> SharedSettings:
    url = env.str("REDIS_URL")
    if url and not url.startswith("redis://"):
        raise SettingsError(
            "REDIS_URL must look like redis://[:password@]host:port/db "
            "(rediss:// is not supported: keep Redis on a private network)"
        )
    return SharedSettings(
        redis_url=url or None,
        timeout_s=env.int("LYNKR_REDIS_TIMEOUT_MS", 1000, minimum=1) / 1000,
        prefix=env.str("LYNKR_REDIS_PREFIX") or "lynkr:",
    )
