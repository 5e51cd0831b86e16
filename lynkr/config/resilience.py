"""Retry, circuit-breaker and load-shedding settings, under the original's variable names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from lynkr.config.settings import Env


@attrs.frozen
class ResilienceSettings:
    retry_max_retries: int = 3
    retry_initial_delay_s: float = 1.0
    retry_max_delay_s: float = 30.0
    breaker_failure_threshold: int = 5
    breaker_success_threshold: int = 2
    breaker_timeout_s: float = 60.0
    shed_active_requests: int = 1000
    shed_memory_fraction: float = 0.85



def resilience_settings(env: Env) -> ResilienceSettings:
    return ResilienceSettings(
        retry_max_retries=env.int("API_RETRY_MAX_RETRIES", 3),
        retry_initial_delay_s=env.int("API_RETRY_INITIAL_DELAY", 1000) / 1000,
        retry_max_delay_s=env.int("API_RETRY_MAX_DELAY", 30_000) / 1000,
        breaker_failure_threshold=env.int("CIRCUIT_BREAKER_FAILURE_THRESHOLD", 5, minimum=1),
        breaker_success_threshold=env.int("CIRCUIT_BREAKER_SUCCESS_THRESHOLD", 2, minimum=1),
        breaker_timeout_s=env.int("CIRCUIT_BREAKER_TIMEOUT", 60_000) / 1000,
        shed_active_requests=env.int("LOAD_SHEDDING_ACTIVE_REQUESTS_THRESHOLD", 1000,
                                     minimum=1),
        shed_memory_fraction=env.number("LOAD_SHEDDING_MEMORY_THRESHOLD", 0.85, 0.0, 1.0,
                                        above_low=True),
    )
