"""Job retention: delete finished jobs older than a cutoff, with everything that hangs off them.

A job is pruned only when it is finished (completed, failed or cancelled, or the subset asked
for) and finished before the cutoff (``completed_at``, else ``created_at``); queued and running
jobs are never touched. Its results (sweep runs and their rows, backtest runs and their trades),
events and webhook deliveries (and their attempts) are deleted with it, children first, so the
prune needs no ``ON DELETE CASCADE``. Jobs go in batches, each batch in its own transaction: a
large prune never holds SQLite's write lock for long, and a failure leaves whole jobs behind,
never a job without its results.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store.models import (
    FINISHED_STATUSES,
    BacktestRun,
    BacktestTrade,
    Job,
    JobEvent,
    JobStatus,
    SweepResultRow,
    SweepRun,
    WebhookAttempt,
    WebhookDelivery,
)
from tradesweep.store.types import utcnow

BATCH_JOBS = 500
"""Jobs deleted per transaction."""
RETENTION_EVERY = timedelta(days=1)
"""How often ``tradesweep serve`` prunes when a retention is set."""


@dataclass
class Pruned:
    """How many rows a prune deleted, by what they were."""

    jobs: int = 0
    events: int = 0
    sweep_runs: int = 0
    backtest_runs: int = 0
    deliveries: int = 0

    def add(self, other: Pruned) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def prune_jobs(
    sessions: sessionmaker[Session],
    *,
    older_than: timedelta,
    statuses: Collection[JobStatus] = FINISHED_STATUSES,
    now: datetime | None = None,
    batch: int = BATCH_JOBS,
) -> Pruned:
    """Delete the jobs of ``statuses`` finished more than ``older_than`` before ``now``
    (default: the current UTC time), with their results, events and deliveries. A status
    that is not finished raises ``ValueError``: queued and running jobs are never pruned."""
    chosen = tuple(JobStatus(s) for s in statuses)
    unfinished = [s.value for s in chosen if not s.terminal]
    if unfinished:
        raise ValueError(f"{', '.join(unfinished)} jobs are never pruned")
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    cutoff = (now or utcnow()) - older_than
    finished_at = func.coalesce(Job.completed_at, Job.created_at)
    query = (
        select(Job.id)
        .where(Job.status.in_(chosen), finished_at < cutoff)
        .order_by(Job.id)
        .limit(batch)
    )
    total = Pruned()
    while True:
        with sessions.begin() as session:
            ids = list(session.scalars(query))
            if not ids:
                return total
            total.add(_delete(session, ids))


def _delete(session: Session, job_ids: Sequence[str]) -> Pruned:
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.job_id.in_(job_ids))
    sweeps = select(SweepRun.id).where(SweepRun.job_id.in_(job_ids))
    backtests = select(BacktestRun.id).where(BacktestRun.job_id.in_(job_ids))
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(SweepResultRow).where(SweepResultRow.sweep_run_id.in_(sweeps)))
    session.execute(delete(BacktestTrade).where(BacktestTrade.backtest_run_id.in_(backtests)))
    return Pruned(
        deliveries=_count(
            session, delete(WebhookDelivery).where(WebhookDelivery.job_id.in_(job_ids))
        ),
        sweep_runs=_count(session, delete(SweepRun).where(SweepRun.job_id.in_(job_ids))),
        backtest_runs=_count(session, delete(BacktestRun).where(BacktestRun.job_id.in_(job_ids))),
        events=_count(session, delete(JobEvent).where(JobEvent.job_id.in_(job_ids))),
        jobs=_count(session, delete(Job).where(Job.id.in_(job_ids))),
    )


def _count(session: Session, statement: object) -> int:
    result = session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


def run_retention(
    sessions: sessionmaker[Session],
    *,
    keep: timedelta,
    stop: threading.Event,
    every: timedelta = RETENTION_EVERY,
    report: Callable[[Pruned | Exception], None] = lambda _: None,
) -> None:
    """Prune finished jobs older than ``keep`` now and then every ``every`` until ``stop`` is
    set (how ``tradesweep serve`` keeps a retention setting). Each round's outcome, counts or
    the exception that stopped it, goes to ``report``; a failed round is tried again next
    time."""
    while True:
        try:
            report(prune_jobs(sessions, older_than=keep))
        except Exception as exc:  # the next round may succeed (a database restart)
            report(exc)
        if stop.wait(every.total_seconds()):
            return


def start_retention(
    sessions: sessionmaker[Session], *, keep: timedelta, stop: threading.Event, **kwargs: Any
) -> threading.Thread:
    """:func:`run_retention` in a daemon thread."""
    thread = threading.Thread(
        target=run_retention,
        args=(sessions,),
        kwargs={"keep": keep, "stop": stop, **kwargs},
        name="job-retention",
        daemon=True,
    )
    thread.start()
    return thread
