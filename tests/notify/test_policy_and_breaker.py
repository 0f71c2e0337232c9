"""The retry schedule and the per-host circuit breaker, on a settable clock."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tradesweep.notify import BreakerState, CircuitBreaker, DeliveryRetryPolicy


def test_the_default_schedule_spans_more_than_a_day() -> None:
    policy = DeliveryRetryPolicy()
    assert policy.span >= timedelta(hours=24)
    assert policy.max_attempts == len(policy.schedule) + 1 >= 10
    assert list(policy.schedule) == sorted(policy.schedule)  # never shorter than the last wait


def test_delays_follow_the_table_stretched_by_jitter_never_shortened() -> None:
    policy = DeliveryRetryPolicy(schedule=(5, 30, 120), jitter=0.1)
    rng = random.Random(7)
    for n, base in enumerate(policy.schedule, start=1):
        for _ in range(50):
            delay = policy.delay(n, rng)
            assert delay is not None
            assert base <= delay.total_seconds() <= base * 1.1
    assert policy.delay(4, rng) is None
    assert DeliveryRetryPolicy(schedule=(5,), jitter=0).delay(1) == timedelta(seconds=5)
    with pytest.raises(ValueError):
        policy.delay(0)


class Clock:
    def __init__(self) -> None:
        from tradesweep.store.types import utcnow

        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_breaker_opens_after_threshold_then_half_opens_for_one_probe() -> None:
    clock = Clock()
    changes: list[tuple[str, str, str]] = []
    breaker = CircuitBreaker(
        failure_threshold=3,
        cool_off=timedelta(seconds=60),
        clock=clock,
        listener=lambda host, old, new: changes.append((host, old.value, new.value)),
    )
    for _ in range(2):
        assert breaker.allow("dead.example") is None
        breaker.record_failure("dead.example")
    assert breaker.state("dead.example") is BreakerState.CLOSED
    breaker.record_failure("dead.example")
    assert breaker.state("dead.example") is BreakerState.OPEN
    retry_at = breaker.allow("dead.example")
    assert retry_at == clock.now + timedelta(seconds=60)
    assert breaker.allow("live.example") is None  # other hosts unaffected

    clock.advance(61)
    assert breaker.allow("dead.example") is None  # the one probe
    assert breaker.state("dead.example") is BreakerState.HALF_OPEN
    assert breaker.allow("dead.example") is not None  # everyone else waits for it
    breaker.record_failure("dead.example")  # probe failed: open again
    assert breaker.state("dead.example") is BreakerState.OPEN

    clock.advance(61)
    assert breaker.allow("dead.example") is None
    breaker.record_success("dead.example")
    assert breaker.state("dead.example") is BreakerState.CLOSED
    assert breaker.counts()[BreakerState.OPEN] == 0
    assert [c[2] for c in changes] == ["open", "half_open", "open", "half_open", "closed"]


def test_a_released_probe_goes_to_the_next_caller() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=1, cool_off=timedelta(seconds=1), clock=clock)
    breaker.record_failure("h")
    clock.advance(2)
    assert breaker.allow("h") is None
    breaker.release("h")
    assert breaker.allow("h") is None


def test_successes_reset_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    breaker.record_failure("h")
    breaker.record_success("h")
    breaker.record_failure("h")
    assert breaker.state("h") is BreakerState.CLOSED
