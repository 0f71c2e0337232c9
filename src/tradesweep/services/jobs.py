"""A tenant's jobs as the routes read and change them: one job, a page of them, cancelling
one, its newest progress and its webhook deliveries; and the queue's health.

A job that does not exist, or is another tenant's, raises :class:`NotFound` naming
``job_id``: a route never learns whether an id exists elsewhere. ``Job``, ``JobStatus`` and
``JobType`` are re-exported for the routes' signatures and answers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tradesweep.notify import delivery_view
from tradesweep.store import (
    ApiKeyRepository,
    Job,
    JobEvent,
    JobRepository,
    JobStatus,
    JobType,
    NotFound,
    OutboxRepository,
    Page,
)

__all__ = [
    "Job",
    "JobStatus",
    "JobType",
    "NotFound",
    "cancel",
    "could_be_key",
    "deliveries",
    "find",
    "key_is_valid",
    "latest_progress",
    "live_workers",
    "no_worker_message",
    "page",
    "queue_stats",
]

NO_WORKER = "no worker is consuming the queue"
"""What the health check and a submission's warning say while no worker is alive."""

_FIX = "see GET /api/v1/jobs"


def find(
    session: Session,
    tenant_id: int,
    job_id: str,
    *,
    type: JobType | None = None,
    what: str = "job",
    fix: str = _FIX,
) -> Job:
    """The tenant's job (of ``type``, when given); :class:`NotFound` otherwise."""
    job = JobRepository(session).get(tenant_id, job_id)
    if job is None or (type is not None and job.type is not type):
        raise NotFound(f"no {what} {job_id!r}", fix=fix, field="job_id")
    return job


def page(
    session: Session,
    tenant_id: int,
    *,
    status: JobStatus | None,
    type: JobType | None,
    ticker: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Job]:
    """The tenant's jobs, newest first, filtered; ``cursor`` from the previous page."""
    return JobRepository(session).list(
        tenant_id, status=status, type=type, ticker=ticker, limit=limit, cursor=cursor
    )


def cancel(session: Session, tenant_id: int, job_id: str) -> Job:
    """Cancel a queued job at once, ask a running one to stop; a finished one is unchanged."""
    return JobRepository(session).request_cancel(tenant_id, job_id)


def latest_progress(session: Session, job_id: str) -> JobEvent | None:
    """The job's newest ``progress`` event."""
    return session.scalar(
        select(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.kind == "progress")
        .order_by(JobEvent.seq.desc())
        .limit(1)
    )


def deliveries(session: Session, tenant_id: int, job_id: str) -> tuple[Job, list[dict[str, Any]]]:
    """The tenant's job and each of its webhook deliveries with every attempt."""
    job = find(session, tenant_id, job_id)
    outbox = OutboxRepository(session)
    return job, [delivery_view(d, outbox.attempts(d.id)) for d in outbox.for_job(job.id)]


def queue_stats(session: Session) -> dict[str, Any]:
    """The database's backend name and the queue's ``stats`` (live workers, running and
    queued jobs); the database is reached once more (``SELECT 1``) first."""
    session.execute(text("SELECT 1"))
    return {**JobRepository(session).stats(), "backend": session.get_bind().dialect.name}


def live_workers(session: Session) -> int:
    """Workers, on any host, with a fresh heartbeat: those consuming the queue now."""
    return JobRepository(session).live_workers()


def no_worker_message(waiting: int) -> str:
    """Why the queue does not move while no worker is alive, and how to start one."""
    jobs = f"{waiting} queued or running job(s) wait" if waiting else "a job submitted waits"
    return (
        f"no live worker: {NO_WORKER}; {jobs} until one starts (`tradesweep serve` runs "
        "one unless --workers 0, or start one with `tradesweep worker`)"
    )


def could_be_key(key: str) -> bool:
    """Whether ``key`` has an issued key's shape: only then is it worth a database read."""
    return ApiKeyRepository.well_formed(key)


def key_is_valid(session: Session, key: str) -> bool:
    """Whether ``key`` is a valid, unrevoked API key."""
    return ApiKeyRepository(session).verify(key) is not None
