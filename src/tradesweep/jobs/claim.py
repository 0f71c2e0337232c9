"""Claiming: the next job a worker may run, taken with a lease in one transaction.

Claimable are queued jobs whose ``run_after`` has come, and running jobs whose lease ran out
(their worker died or froze): crash recovery is part of the claim, not a cron. The row is
picked with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers take
different jobs without waiting on each other; on SQLite the transaction's ``BEGIN IMMEDIATE``
serialises claims instead (SQLAlchemy renders no ``FOR UPDATE`` there).

A claim counts an attempt. A job whose lease ran out during its last attempt is not run again
but FAILED, and one whose cancel was asked for is CANCELLED, both in the claiming
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tradesweep.jobs import events, finish
from tradesweep.store import Job, JobRepository, JobStatus

REAP_LIMIT = 20
"""Expired jobs one claim may finish (fail or cancel) before it gives up for this round."""


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs to run a job it claimed: a plain snapshot, safe across threads."""

    id: str
    tenant_id: int
    type: str
    parameters: dict[str, Any]
    attempt: int
    max_attempts: int
    timeout_seconds: int
    ticker: str | None

    @property
    def spec(self) -> Any:
        """``parameters["spec"]`` (the contract with the API; may be missing in bad jobs)."""
        return self.parameters.get("spec") if isinstance(self.parameters, dict) else None


def claimable(now: datetime) -> Any:
    return or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at <= now),
    )


def claim_next(
    session: Session, owner: str, lease_seconds: float, now: datetime
) -> ClaimedJob | None:
    """Claim the oldest claimable job for ``owner`` (``run_after``, then ``created_at``
    order), or return None. Call inside a transaction; it logs the ``started`` event."""
    for _ in range(REAP_LIMIT):
        job = session.scalar(
            select(Job)
            .where(claimable(now))
            .order_by(Job.run_after, Job.created_at, Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if job is None:
            return None
        if job.cancel_requested:
            finish.cancel(session, job, now)
            continue
        if job.status is JobStatus.RUNNING and job.attempts >= job.max_attempts:
            reason = (
                f"LeaseExpired: worker {job.lease_owner} stopped renewing its lease during the "
                f"last attempt ({job.attempts} of {job.max_attempts})"
            )
            finish.fail(session, job, reason, now)
            continue
        return _take(session, job, owner, lease_seconds, now)
    return None


def _take(
    session: Session, job: Job, owner: str, lease_seconds: float, now: datetime
) -> ClaimedJob:
    job.status = JobStatus.RUNNING
    job.lease_owner = owner
    job.lease_expires_at = now + timedelta(seconds=lease_seconds)
    job.attempts += 1
    job.started_at = now
    job.progress = 0.0
    session.flush()
    JobRepository(session).append_event(
        job.id, "started", events.started(job.attempts, job.max_attempts, now)
    )
    return ClaimedJob(
        id=job.id,
        tenant_id=job.tenant_id,
        type=job.type.value,
        parameters=dict(job.parameters or {}),
        attempt=job.attempts,
        max_attempts=job.max_attempts,
        timeout_seconds=job.timeout_seconds,
        ticker=job.ticker,
    )
