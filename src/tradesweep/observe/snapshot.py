"""The database half of ``/metrics``: one short read-only transaction per scrape."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.observe.prometheus import Snapshot
from tradesweep.store import FINISHED_STATUSES, Job, JobStatus, JobType, SweepRun, WorkerRecord
from tradesweep.store.jobs import WORKER_FRESH_SECONDS
from tradesweep.store.types import utcnow


def read_snapshot(session: Session) -> Snapshot:
    """Jobs by status, live workers, finished sweeps with their durations, result rows and
    the best winning Sharpe ratio per ticker.

    A sweep's duration is ``completed_at - started_at``; a sweep cancelled before it started
    has none and is not counted among the finished. The best Sharpe ratio of a ticker is the
    highest ``sharpe_ratio`` of the rank-1 rows of its completed sweeps (``result["best"]``).
    """
    by_status = {
        JobStatus(status).value: int(count)
        for status, count in session.execute(select(Job.status, func.count()).group_by(Job.status))
    }
    fresh = utcnow() - timedelta(seconds=WORKER_FRESH_SECONDS)
    workers = session.scalar(
        select(func.count()).select_from(WorkerRecord).where(WorkerRecord.heartbeat_at >= fresh)
    )
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    best: dict[str, float] = {}
    finished = session.execute(
        select(Job.status, Job.ticker, Job.started_at, Job.completed_at, Job.result).where(
            Job.type == JobType.SWEEP,
            Job.status.in_(FINISHED_STATUSES),
            Job.started_at.is_not(None),
            Job.completed_at.is_not(None),
        )
    )
    for status, ticker, started, completed, result in finished:
        ticker = ticker or ""
        durations[(JobStatus(status).value, ticker)].append(
            max(0.0, (completed - started).total_seconds())
        )
        sharpe = ((result or {}).get("best") or {}).get("metrics", {}).get("sharpe_ratio")
        if isinstance(sharpe, int | float) and math.isfinite(sharpe):
            best[ticker] = max(best.get(ticker, -math.inf), float(sharpe))
    results = {
        ticker: int(total or 0)
        for ticker, total in session.execute(
            select(SweepRun.ticker, func.sum(SweepRun.evaluated)).group_by(SweepRun.ticker)
        )
    }
    return Snapshot(
        jobs_by_status=by_status,
        workers=int(workers or 0),
        sweep_durations=dict(durations),
        results_by_ticker=results,
        best_sharpe_by_ticker=best,
    )


def snapshot_reader(sessions: sessionmaker[Session]) -> Callable[[], Snapshot]:
    """A ``snapshot`` callable for :class:`~tradesweep.observe.prometheus.Metrics`."""

    def read() -> Snapshot:
        with sessions() as session:
            return read_snapshot(session)

    return read
