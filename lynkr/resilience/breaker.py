"""A per-provider circuit breaker: closed → open after N failed client requests in a row →
half-open after a timeout → closed after M successful probes (or open again at a failure).

One outcome per client request, settled after its retries (``open_with_retry``): a request
that took four 500s is one failure, not five. Only what the provider is to blame for counts
(connect errors, timeouts, 5xx, overload); a 4xx about the request, 429 back-pressure, a wait
for a local pooled connection or a client that went away settles as ``release()``: no outcome.

Half-open lets exactly one request through at a time (the probe); the others fail fast until
the probe settles. A probe that never settles (its task vanished) is replaced after the timeout.
Pure state machine: the caller passes ``now`` (trio's clock in the server, explicit in tests).
Processes share trips through a ``BreakerBoard`` (``lynkr/ports.py``): ``adopt`` opens this one
for what is left of another's open time.
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
    probe_since: float | None = None  # half-open: when the one request let through started

    def allow(self, now: float) -> bool:
        """May a request go to the provider now? True takes the probe slot when half-open."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.timeout_s:
                return False
            self.state, self.successes, self.probe_since = BreakerState.HALF_OPEN, 0, None
        if self.probe_since is not None and now - self.probe_since < self.timeout_s:
            return False  # a probe is on its way: the others wait for its verdict
        self.probe_since = now
        return True

    def check(self, now: float) -> None:
        if not self.allow(now):
            if self.state is BreakerState.OPEN:
                retry = max(self.timeout_s - (now - self.opened_at), 0.0)
                why = f"circuit breaker open after {self.failures} failed requests"
            else:
                retry, why = 1.0, "circuit breaker half-open, a probe request is under way"
            raise CircuitOpen(f"{self.name}: {why}; next try in {retry:.0f}s",
                              retry_after=retry)

    def record_success(self) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self.successes += 1
            self.probe_since = None
            if self.successes >= self.success_threshold:
                self.state, self.failures = BreakerState.CLOSED, 0
        else:
            self.failures = 0

    def record_failure(self, now: float) -> None:
        self.failures += 1
        self.probe_since = None
        if self.state is BreakerState.HALF_OPEN or (
                self.state is BreakerState.CLOSED and self.failures >= self.failure_threshold):
            self.state, self.opened_at = BreakerState.OPEN, now
            self.trips += 1

    def adopt(self, failures: int, open_for_s: float, now: float) -> bool:
        """Open because another process's breaker for this provider tripped and stays open
        ``open_for_s`` more seconds (see ``BreakerBoard``); False when already open."""
        if self.state is BreakerState.OPEN:
            return False
        self.state, self.failures, self.probe_since = BreakerState.OPEN, failures, None
        self.opened_at = now - max(self.timeout_s - open_for_s, 0.0)
        return True

    def release(self) -> None:
        """The request settled without a verdict on the provider: free the probe slot."""
        self.probe_since = None

    def snapshot(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state.value, "failures": self.failures,
                "successes": self.successes, "trips": self.trips,
                "failure_threshold": self.failure_threshold,
                "success_threshold": self.success_threshold, "timeout_s": self.timeout_s}
