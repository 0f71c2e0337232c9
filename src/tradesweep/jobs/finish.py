"""How an attempt ends, written to a job the caller has locked (:func:`~tradesweep.jobs.lease.
hold`, or the claim's own lock): completed with its results, failed, back in the queue for a
retry or after a worker stopped, or cancelled.

Each function only changes the session: the caller's one transaction holds the results, the
final status, the event and the webhook outbox row together, so all of it or none of it is
stored. The final status is set before :meth:`OutboxRepository.enqueue_for_job`, which reads
it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tradesweep.jobs import events
from tradesweep.services.execute import BacktestOutcome, Outcome, SweepOutcome
from tradesweep.store import (
    BacktestRepository,
    Job,
    JobRepository,
    JobStatus,
    OutboxRepository,
    SweepResultRepository,
)


def complete(session: Session, job: Job, outcome: Outcome, now: datetime) -> None:
    """Store the outcome's results (a sweep run and its rows, or a backtest run and its
    trades) and mark the job COMPLETED with its result and metrics."""
    if isinstance(outcome, SweepOutcome):
        run = SweepResultRepository(session).write(
            tenant_id=job.tenant_id,
            ticker=outcome.ticker,
            strategy=outcome.strategy,
            spec=outcome.spec,
            rows=outcome.rows,
            job_id=job.id,
            spec_id=outcome.spec_id,
            grid_combinations=outcome.grid_combinations,
            valid_combinations=outcome.valid_combinations,
            evaluated=outcome.evaluated,
            diagnostics=outcome.diagnostics,
        )
        result = outcome.job_result(run.id)
    elif isinstance(outcome, BacktestOutcome):
        backtest = BacktestRepository(session).write(
            tenant_id=job.tenant_id,
            spec=outcome.spec,
            metrics=outcome.metrics,
            trades=outcome.trades,
            index=outcome.index,
            job_id=job.id,
            spec_id=outcome.spec_id,
            ticker=outcome.ticker,
            strategy=outcome.strategy,
        )
        result = outcome.job_result(backtest.id)
    else:
        result = outcome.job_result()
    job.result = result
    job.metrics = outcome.job_metrics()
    job.error = None
    _end(session, job, JobStatus.COMPLETED, now, "completed", events.completed(result, now))


def fail(session: Session, job: Job, reason: str, now: datetime) -> None:
    """Mark the job FAILED with ``reason`` (type and message, no traceback)."""
    job.error = reason
    _end(session, job, JobStatus.FAILED, now, "failed", events.failed(reason, now))


def cancel(session: Session, job: Job, now: datetime) -> None:
    _end(session, job, JobStatus.CANCELLED, now, "cancelled", events.cancelled(now))


def retry(session: Session, job: Job, reason: str, run_after: datetime, now: datetime) -> None:
    """Back to the queue after a failed attempt, to run again from ``run_after``; the error is
    kept until an attempt succeeds. A job whose cancel was asked for is cancelled instead."""
    if job.cancel_requested:
        cancel(session, job, now)
        return
    job.error = reason
    _requeue(job, run_after)
    session.flush()
    JobRepository(session).append_event(
        job.id, "retry", events.retry(job.attempts, reason, run_after, now)
    )


def release(session: Session, job: Job, now: datetime) -> None:
    """Give the job back because this worker is stopping: queued again at once, and the
    interrupted attempt is not counted against ``max_attempts``."""
    if job.cancel_requested:
        cancel(session, job, now)
        return
    attempt = job.attempts
    job.attempts = max(0, job.attempts - 1)
    _requeue(job, now)
    session.flush()
    message = "the worker stopped; the job is back in the queue and this attempt does not count"
    JobRepository(session).append_event(job.id, "retry", events.retry(attempt, message, now, now))


def _requeue(job: Job, run_after: datetime) -> None:
    job.status = JobStatus.QUEUED
    job.run_after = run_after
    job.lease_owner = None
    job.lease_expires_at = None
    job.progress = 0.0


def _end(
    session: Session,
    job: Job,
    status: JobStatus,
    now: datetime,
    kind: str,
    payload: dict[str, object],
) -> None:
    # lease_owner stays: it records which worker ended the job
    job.status = status
    job.completed_at = now
    job.lease_expires_at = None
    if status is JobStatus.COMPLETED:
        job.progress = 100.0
    session.flush()
    JobRepository(session).append_event(job.id, kind, payload)
    OutboxRepository(session).enqueue_for_job(job)
