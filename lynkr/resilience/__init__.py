"""Resilience around the transport (never around translation): breakers and retries."""

from lynkr.resilience.breaker import BreakerState, CircuitBreaker, CircuitOpen
from lynkr.resilience.retry import RetryPolicy, is_retryable

__all__ = ["BreakerState", "CircuitBreaker", "CircuitOpen", "RetryPolicy", "is_retryable"]
