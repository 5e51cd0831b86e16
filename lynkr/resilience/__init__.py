"""Resilience around the transport (never around translation): breakers and retries."""

from lynkr.model.errors import CircuitOpen
from lynkr.resilience.breaker import BreakerState, CircuitBreaker
from lynkr.resilience.retry import RetryPolicy, is_retryable

__all__ = ["BreakerState", "CircuitBreaker", "CircuitOpen", "RetryPolicy", "is_retryable"]
