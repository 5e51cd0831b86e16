"""The circuit breaker's state machine, on explicit times."""

import pytest

from lynkr.resilience import BreakerState, CircuitBreaker, CircuitOpen


def test_opens_after_the_threshold_and_recovers_through_half_open() -> None:
    breaker = CircuitBreaker("p", failure_threshold=3, success_threshold=2, timeout_s=10)
    for t in (1.0, 2.0):
        breaker.record_failure(t)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure(3.0)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as info:
        breaker.check(5.0)
    assert info.value.retry_after == pytest.approx(8.0)
    assert breaker.allow(13.0)  # timeout over: one probe may go
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record_success()
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.failures == 0


def test_a_failure_in_half_open_opens_again_at_once() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, timeout_s=5)
    breaker.record_failure(0.0)
    assert breaker.allow(6.0)
    breaker.record_failure(6.0)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(7.0)
    assert breaker.trips == 2


def test_success_resets_the_failure_count_when_closed() -> None:
    breaker = CircuitBreaker("p", failure_threshold=3)
    breaker.record_failure(0.0)
    breaker.record_failure(0.0)
    breaker.record_success()
    breaker.record_failure(0.0)
    assert breaker.state is BreakerState.CLOSED


def test_half_open_admits_one_probe_until_it_settles() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, success_threshold=2, timeout_s=10)
    breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    assert not breaker.allow(10.5)  # the probe is under way
    with pytest.raises(CircuitOpen, match="half-open"):
        breaker.check(10.5)
    breaker.record_success()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow(11.0)  # the second probe, one at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_a_probe_that_never_settles_is_replaced_after_the_timeout() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, timeout_s=10)
    breaker.record_failure(0.0)
    assert breaker.allow(10.0)
    assert not breaker.allow(19.0)
    assert breaker.allow(20.0)


def test_failures_of_requests_already_in_flight_do_not_reopen_an_open_breaker() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1, timeout_s=10)
    breaker.record_failure(0.0)
    breaker.record_failure(5.0)
    assert breaker.trips == 1 and breaker.opened_at == 0.0
