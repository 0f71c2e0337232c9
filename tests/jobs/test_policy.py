"""The retry policy: exponential backoff with jitter (2 s, 4 s, 8 s by default), and which
failures are worth another attempt."""

from __future__ import annotations

import pytest

from tradesweep.errors import ParameterError, TradesweepError
from tradesweep.jobs import JobRetryPolicy
from tradesweep.sweep import SweepCancelled


def test_default_delays_double_from_two_seconds_plus_up_to_a_second_of_jitter() -> None:
    policy = JobRetryPolicy()
    for attempt, base in ((1, 2.0), (2, 4.0), (3, 8.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(base <= d <= base + 1.0 for d in delays), (attempt, min(delays), max(delays))
        assert max(delays) - min(delays) > 0.5, "jitter spreads the retries"


def test_without_jitter_the_delays_are_exact_and_capped() -> None:
    policy = JobRetryPolicy(jitter=0.0, max_delay=10.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 10)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.delay(0) == 2.0


def test_bad_input_is_not_retried_and_other_errors_are() -> None:
    assert not JobRetryPolicy.retryable(ParameterError("unknown parameter 'fsat'"))
    assert not JobRetryPolicy.retryable(TradesweepError("bad"))
    assert not JobRetryPolicy.retryable(SweepCancelled("cancelled"))
    assert JobRetryPolicy.retryable(RuntimeError("boom"))
    assert JobRetryPolicy.retryable(MemoryError())


def test_retries_stop_at_max_attempts() -> None:
    assert JobRetryPolicy.should_retry(1, 3, retryable=True)
    assert JobRetryPolicy.should_retry(2, 3, retryable=True)
    assert not JobRetryPolicy.should_retry(3, 3, retryable=True)
    assert not JobRetryPolicy.should_retry(1, 3, retryable=False)


@pytest.mark.parametrize("field", ["multiplier", "max_delay", "jitter"])
def test_negative_settings_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="invalid retry policy"):
        JobRetryPolicy(**{field: -1.0})
