"""Progress reports and cancellation for long evaluations.

Both evaluation paths work in chunks sized to take ~0.25 s; between chunks a
:class:`ProgressTracker` calls the caller's ``progress`` callback with a :class:`ProgressInfo`
and asks the caller's ``cancel`` (a callable or a ``threading.Event``) whether to stop, raising
:class:`SweepCancelled` if so.

Evaluating is not all a large sweep does: after the last chunk come the diagnostics, then its
rows are prepared and (in a job) stored, each of which can take longer than the evaluation.
Each such step is announced once, as a :class:`ProgressInfo` whose ``phase`` names it (see
:data:`PHASES`), so a progress bar or a job's events say what runs instead of a finished count.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from tradesweep.errors import Cancellation

Phase = Literal["evaluating", "diagnostics", "preparing results", "storing results"]
PHASES: tuple[Phase, ...] = get_args(Phase)
"""A sweep's steps in order; a walk-forward or a backtest skips those it has not."""


@dataclass(frozen=True)
class ProgressInfo:
    """Where an evaluation stands: ``done`` of ``total`` combinations after
    ``elapsed_seconds``; ``rate_per_second`` is ``done / elapsed_seconds`` and ``eta_seconds``
    the time left at that rate (None until the rate is known). ``phase``: what runs now; past
    ``evaluating``, ``done == total``."""

    done: int
    total: int
    elapsed_seconds: float
    rate_per_second: float
    eta_seconds: float | None
    phase: Phase = "evaluating"


def announce(
    progress: ProgressCallback | None, phase: Phase, total: int, elapsed_seconds: float
) -> None:
    """Tell ``progress`` that ``phase`` starts, every one of ``total`` combinations evaluated."""
    if progress is None:
        return
    rate = total / elapsed_seconds if elapsed_seconds > 0 else 0.0
    progress(ProgressInfo(total, total, elapsed_seconds, rate, None, phase))


class SweepCancelled(Cancellation):
    """The caller's ``cancel`` fired; ``details`` say how far the evaluation got."""


ProgressCallback = Callable[[ProgressInfo], None]
Cancel = Callable[[], bool] | threading.Event


def as_cancel_check(cancel: Cancel | None) -> Callable[[], bool]:
    """``cancel`` as a no-argument predicate (an Event's ``is_set``; never, for None)."""
    if cancel is None:
        return lambda: False
    is_set = getattr(cancel, "is_set", None)
    if callable(is_set):
        return is_set
    if not callable(cancel):
        raise TypeError(f"cancel must be a callable or a threading.Event, got {cancel!r}")
    return cancel


class ProgressTracker:
    """Counts finished combinations, reports them and checks for cancellation.

    ``clock`` is injectable for tests (default :func:`time.perf_counter`)."""

    def __init__(
        self,
        total: int,
        progress: ProgressCallback | None = None,
        cancel: Cancel | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.total = int(total)
        self.done = 0
        self._progress = progress
        self._cancelled = as_cancel_check(cancel)
        self._clock = clock
        self._start = clock()

    @property
    def elapsed_seconds(self) -> float:
        return self._clock() - self._start

    def check(self) -> None:
        """Raise :class:`SweepCancelled` if the caller asked to stop."""
        if self._cancelled():
            raise SweepCancelled(
                f"evaluation cancelled after {self.done} of {self.total} combinations",
                done=self.done,
                total=self.total,
            )

    def info(self) -> ProgressInfo:
        elapsed = self.elapsed_seconds
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        return ProgressInfo(self.done, self.total, elapsed, rate, eta)

    def advance(self, count: int) -> None:
        """``count`` more combinations are finished: report it."""
        self.done += int(count)
        if self._progress is not None:
            self._progress(self.info())
