"""When a failed webhook is tried again, and when it is given up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

DEFAULT_SCHEDULE: tuple[float, ...] = (
    5,  # 5 s
    30,  # 30 s
    120,  # 2 min
    600,  # 10 min
    1800,  # 30 min
    3600,  # 1 h
    7200,  # 2 h
    14400,  # 4 h
    28800,  # 8 h
    28800,  # 8 h
    28800,  # 8 h
)
"""Seconds to wait after the 1st, 2nd, ... failed attempt: 12 attempts over about 31.7 hours."""


@dataclass(frozen=True)
class DeliveryRetryPolicy:
    """Exponential-ish backoff as a table: after failed attempt ``n`` wait ``schedule[n-1]``
    seconds, stretched by a random 0..``jitter`` fraction (never shortened, so the schedule's
    total is a floor). After ``len(schedule) + 1`` failed attempts the delivery is FAILED.

    The default spans more than 24 hours between the first and the last attempt, so a
    receiver down for a day still gets its webhook.
    """

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if any(s < 0 for s in self.schedule) or self.jitter < 0:
            raise ValueError("schedule and jitter must not be negative")

    @property
    def max_attempts(self) -> int:
        return len(self.schedule) + 1

    @property
    def span(self) -> timedelta:
        """Least time from the first attempt to the last (jitter only adds)."""
        return timedelta(seconds=sum(self.schedule))

    def delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta | None:
        """How long to wait after ``failed_attempts`` attempts failed; None: give up."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        if failed_attempts > len(self.schedule):
            return None
        base = self.schedule[failed_attempts - 1]
        stretch = 1.0 + (rng or random).uniform(0.0, self.jitter)
        return timedelta(seconds=base * stretch)
