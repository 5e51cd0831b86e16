"""A per-provider circuit breaker: closed → open after N failures → half-open after a timeout →
closed after M successes (or open again at the first failure).

Failures are what the provider is to blame for: connect errors, timeouts, 5xx and overload
(429 is the provider saying "slow down", not "broken": it does not count). Pure state machine:
the caller passes ``now`` (trio's clock in the server, a fake one in tests).
"""

from __future__ import annotations

import enum

import attrs

from lynkr.model.errors import CircuitOpen


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@attrs.define
class CircuitBreaker:
    name: str
    failure_threshold: int = 5
    success_threshold: int = 2
    timeout_s: float = 60.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    successes: int = 0
    opened_at: float = 0.0
    trips: int = 0  # how many times it opened (for metrics)

    def allow(self, now: float) -> bool:
        """May a request go to the provider now? Moves open → half-open after the timeout."""
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.timeout_s:
                return False
            self.state, self.successes = BreakerState.HALF_OPEN, 0
        return True

    def check(self, now: float) -> None:
        if not self.allow(now):
            retry = max(self.timeout_s - (now - self.opened_at), 0.0)
            raise CircuitOpen(f"{self.name}: circuit breaker open after {self.failures} "
                              f"failures; next try in {retry:.0f}s", retry_after=retry)

    def record_success(self) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self.successes += 1
            if self.successes >= self.success_threshold:
                self.state, self.failures = BreakerState.CLOSED, 0
        else:
            self.failures = 0

    def record_failure(self, now: float) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state, self.opened_at = BreakerState.OPEN, now
            self.trips += 1

    def snapshot(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state.value, "failures": self.failures,
                "successes": self.successes, "trips": self.trips,
                "failure_threshold": self.failure_threshold,
                "success_threshold": self.success_threshold, "timeout_s": self.timeout_s}
