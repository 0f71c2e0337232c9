"""How long a failed job waits before its next attempt, and which failures are worth one.

Attempts are counted when a worker claims a job (``jobs.attempts``), and the job row carries
its own ``max_attempts`` (default 3). After failed attempt *n* (of fewer than ``max_attempts``)
the job goes back to the queue with ``run_after = now + delay(n)``::

    delay(n) = min(multiplier * exp_base ** (n - 1), max_delay) + uniform(0, jitter)

which with the defaults is 2 s, 4 s, 8 s, ... plus up to 1 s of jitter (tenacity's
``wait_exponential`` + ``wait_random``), so jobs that failed together do not return together.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential, wait_random

from tradesweep.errors import Cancellation, TradesweepError


@dataclass(frozen=True)
class JobRetryPolicy:
    """Backoff between attempts, as data. ``delay(attempt)`` is the wait after failed
    attempt ``attempt`` (1-based)."""

    multiplier: float = 2.0
    exp_base: float = 2.0
    max_delay: float = 300.0
    jitter: float = 1.0

    def __post_init__(self) -> None:
        if self.multiplier < 0 or self.max_delay < 0 or self.jitter < 0 or self.exp_base < 1:
            raise ValueError(f"invalid retry policy {self!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1, 2, ...) before the next one."""
        wait = wait_exponential(
            multiplier=self.multiplier, exp_base=self.exp_base, max=self.max_delay
        ) + wait_random(0, self.jitter)
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = max(1, int(attempt))
        return float(wait(state))

    @staticmethod
    def retryable(error: BaseException) -> bool:
        """False for bad input a user must fix (:class:`TradesweepError`): running the same
        spec again fails the same way; and for a :class:`Cancellation`: the caller asked to
        stop. Anything else may be transient."""
        return not isinstance(error, TradesweepError | Cancellation)

    @staticmethod
    def should_retry(attempt: int, max_attempts: int, *, retryable: bool) -> bool:
        return retryable and attempt < max_attempts
