"""A circuit breaker per destination host, so a dead receiver does not hold the dispatcher.

States, per host name:

- **closed**: attempts go through; ``failure_threshold`` consecutive failures open it.
- **open**: no attempt is made until ``cool_off`` has passed; deliveries to the host are
  rescheduled for that moment without counting an attempt.
- **half-open**: after the cool-off, one probe attempt goes through; success closes the
  breaker, failure opens it again for another cool-off.

A failure is a timeout, a connection error, a 5xx or a 429; other answers (2xx, 3xx, 4xx, 410)
show the receiver is alive. The state lives in the memory of one dispatcher (each process
learns on its own, a restart starts closed): it protects this process's time, it is not a
shared verdict on the host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tradesweep.store.types import utcnow


class BreakerState(str, Enum):  # noqa: UP042
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class _Host:
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: datetime | None = None
    probing: bool = False


Listener = Callable[[str, BreakerState, BreakerState], None]
"""``listener(host, old_state, new_state)``, called on every transition."""


class CircuitBreaker:
    """Per-host breakers, thread-safe. ``clock`` returns aware UTC datetimes."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cool_off: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = utcnow,
        listener: Listener | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.failure_threshold = failure_threshold
        self.cool_off = cool_off
        self.clock = clock
        self.listener = listener
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.RLock()  # listeners may read counts()

    def allow(self, host: str) -> datetime | None:
        """None when an attempt to ``host`` may go ahead now, else when to try again.

        After the cool-off, the first caller gets the half-open probe; others wait.
        """
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None or entry.state is BreakerState.CLOSED:
                return None
            assert entry.opened_at is not None
            reopen_at = entry.opened_at + self.cool_off
            now = self.clock()
            if entry.state is BreakerState.OPEN and now >= reopen_at:
                self._move(host, entry, BreakerState.HALF_OPEN)
            if entry.state is BreakerState.HALF_OPEN and not entry.probing:
                entry.probing = True
                return None
            return max(reopen_at, now)

    def record_success(self, host: str) -> None:
        with self._lock:
            entry = self._hosts.pop(host, None)  # a healthy host needs no entry
            if entry is not None and entry.state is not BreakerState.CLOSED:
                self._move(host, entry, BreakerState.CLOSED)

    def release(self, host: str) -> None:
        """An allowed attempt that never reached the host (e.g. refused by the SSRF guard):
        hand the half-open probe to the next caller, change nothing else."""
        with self._lock:
            entry = self._hosts.get(host)
            if entry is not None:
                entry.probing = False

    def record_failure(self, host: str) -> None:
        with self._lock:
            entry = self._hosts.setdefault(host, _Host())
            entry.failures += 1
            entry.probing = False
            if entry.state is BreakerState.HALF_OPEN or (
                entry.state is BreakerState.CLOSED and entry.failures >= self.failure_threshold
            ):
                entry.opened_at = self.clock()
                self._move(host, entry, BreakerState.OPEN)

    def state(self, host: str) -> BreakerState:
        with self._lock:
            entry = self._hosts.get(host)
            return entry.state if entry else BreakerState.CLOSED

    def counts(self) -> dict[BreakerState, int]:
        """How many hosts are in each state; closed counts only hosts with recent failures."""
        with self._lock:
            counts = dict.fromkeys(BreakerState, 0)
            for entry in self._hosts.values():
                counts[entry.state] += 1
            return counts

    def _move(self, host: str, entry: _Host, new: BreakerState) -> None:
        old, entry.state = entry.state, new
        if self.listener is not None and old is not new:
            self.listener(host, old, new)
