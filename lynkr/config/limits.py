"""Bounds on every read, in size and time, and on what the proxy keeps: each a setting with a
sane default, named in the error a client gets when it is crossed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from lynkr.config.errors import SettingsError

if TYPE_CHECKING:
    from lynkr.config.settings import Env

MIB = 1024 * 1024


@attrs.frozen
class Limits:
    max_json_depth: int = 128  # MAX_JSON_DEPTH (the serializer's own stop is 254)
    body_timeout_s: float = 60.0  # REQUEST_BODY_TIMEOUT_MS: the whole body, from the headers
    upstream_max_line_bytes: int = 16 * MIB  # UPSTREAM_MAX_LINE_BYTES: one SSE/NDJSON line
    answer_max_bytes: int = 32 * MIB  # UPSTREAM_MAX_ANSWER_BYTES: a non-streamed answer
    answer_base_s: float = 120.0  # UPSTREAM_ANSWER_TIMEOUT_MS, plus ...
    answer_per_token_s: float = 0.1  # ... UPSTREAM_ANSWER_MS_PER_TOKEN * max_tokens
    error_body_bytes: int = 64 * 1024  # UPSTREAM_ERROR_BODY_BYTES
    pool_timeout_s: float = 10.0  # UPSTREAM_POOL_TIMEOUT_MS: wait for a pooled connection
    responses_owner_bytes: int = 64 * MIB  # RESPONSES_MAX_BYTES_PER_CALLER
    responses_total_bytes: int = 1024 * MIB  # RESPONSES_MAX_BYTES
    deep_health_interval_s: float = 10.0  # HEALTH_DEEP_MIN_INTERVAL_MS

    def answer_deadline_s(self, max_tokens: int) -> float:
        """How long a non-streamed answer of at most ``max_tokens`` tokens may take."""
        return self.answer_base_s + self.answer_per_token_s * max(max_tokens, 0)


def limits_settings(env: Env) -> Limits:
    depth = env.int("MAX_JSON_DEPTH", 128, minimum=8)
    if depth > 250:
        raise SettingsError(f"MAX_JSON_DEPTH must be at most 250 (the JSON writer stops at "
                            f"254 levels), got {depth}")
    return Limits(
        max_json_depth=depth,
        body_timeout_s=env.int("REQUEST_BODY_TIMEOUT_MS", 60_000, minimum=100) / 1000,
        upstream_max_line_bytes=env.int("UPSTREAM_MAX_LINE_BYTES", 16 * MIB, minimum=65_536),
        answer_max_bytes=env.int("UPSTREAM_MAX_ANSWER_BYTES", 32 * MIB, minimum=65_536),
        answer_base_s=env.int("UPSTREAM_ANSWER_TIMEOUT_MS", 120_000, minimum=1000) / 1000,
        answer_per_token_s=env.int("UPSTREAM_ANSWER_MS_PER_TOKEN", 100, minimum=0) / 1000,
        error_body_bytes=env.int("UPSTREAM_ERROR_BODY_BYTES", 64 * 1024, minimum=1024),
        pool_timeout_s=env.int("UPSTREAM_POOL_TIMEOUT_MS", 10_000, minimum=1) / 1000,
        responses_owner_bytes=env.int("RESPONSES_MAX_BYTES_PER_CALLER", 64 * MIB,
                                      minimum=65_536),
        responses_total_bytes=env.int("RESPONSES_MAX_BYTES", 1024 * MIB, minimum=65_536),
        deep_health_interval_s=env.int("HEALTH_DEEP_MIN_INTERVAL_MS", 10_000,
                                       minimum=0) / 1000,
    )
