"""Jobs: idempotent creation, tenant-scoped reads, listing, and the per-job event log.

Claiming, leasing, retrying and finishing jobs belong to ``tradesweep.jobs``; the columns they
need (``lease_owner``, ``lease_expires_at``, ``run_after``, ``attempts``...) live on
:class:`~tradesweep.store.models.Job`.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tradesweep.store.errors import IdempotencyConflict, NotFound
from tradesweep.store.models import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    Job,
    JobEvent,
    JobStatus,
    JobType,
    WorkerRecord,
)
from tradesweep.store.outbox import OutboxRepository
from tradesweep.store.pagination import Page, decode_cursor, encode_cursor
from tradesweep.store.types import utcnow

WORKER_FRESH_SECONDS = 30
"""A worker whose heartbeat is older than this is not counted as alive."""


def request_hash(body: Any) -> str:
    """sha256 of the canonical JSON of ``body`` (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CreatedJob(NamedTuple):
    job: Job
    created: bool  # False: an earlier request with the same idempotency key made it


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        tenant_id: int,
        type: JobType,
        parameters: dict[str, Any],
        *,
        ticker: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
        body_hash: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
    ) -> CreatedJob:
        """Store a new QUEUED job, or return the one an earlier request made.

        With ``idempotency_key``, a repeat with the same request (``body_hash``, default the
        hash of type, parameters, ticker and webhook_url) returns the original job with
        ``created=False``; a repeat with a different request raises
        :class:`IdempotencyConflict`. Safe against two concurrent identical requests.
        """
        type = JobType(type)
        digest = body_hash or request_hash(
            {
                "type": type.value,
                "parameters": parameters,
                "ticker": ticker,
                "webhook_url": webhook_url,
            }
        )
        if idempotency_key is not None:
            existing = self._by_idempotency_key(tenant_id, idempotency_key)
            if existing is not None:
                return CreatedJob(self._same_request(existing, digest), created=False)

        now = utcnow()
        job = Job(
            tenant_id=tenant_id,
            type=type,
            status=JobStatus.QUEUED,
            parameters=parameters,
            ticker=ticker,
            webhook_url=webhook_url,
            idempotency_key=idempotency_key,
            request_hash=digest,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            created_at=now,
            run_after=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(job)
        except IntegrityError:
            # Lost a race with an identical key committed meanwhile.
            if idempotency_key is None:
                raise
            existing = self._by_idempotency_key(tenant_id, idempotency_key)
            if existing is None:
                raise
            return CreatedJob(self._same_request(existing, digest), created=False)
        return CreatedJob(job, created=True)

    def get(self, tenant_id: int, job_id: str) -> Job | None:
        """The job, or None when it does not exist or belongs to another tenant."""
        return self.session.scalar(select(Job).where(Job.id == job_id, Job.tenant_id == tenant_id))

    def active_on(self, ticker: str) -> list[Job]:
        """Queued or running jobs of any tenant that name ``ticker``, oldest first."""
        query = (
            select(Job)
            .where(Job.ticker == ticker, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
            .order_by(Job.created_at, Job.id)
        )
        return list(self.session.scalars(query))

    def list(
        self,
        tenant_id: int,
        *,
        status: JobStatus | None = None,
        type: JobType | None = None,
        ticker: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Job]:
        """The tenant's jobs, newest first, ``limit`` at a time."""
        query = select(Job).where(Job.tenant_id == tenant_id)
        if status is not None:
            query = query.where(Job.status == JobStatus(status))
        if type is not None:
            query = query.where(Job.type == JobType(type))
        if ticker is not None:
            query = query.where(Job.ticker == ticker)
        if cursor is not None:
            created, last_id = decode_cursor(cursor, datetime, str)
            query = query.where(
                or_(Job.created_at < created, and_(Job.created_at == created, Job.id < last_id))
            )
        query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)
        jobs = list(self.session.scalars(query))
        more = len(jobs) > limit
        jobs = jobs[:limit]
        next_cursor = encode_cursor(jobs[-1].created_at.isoformat(), jobs[-1].id) if more else None
        return Page(jobs, next_cursor)

    def append_event(self, job_id: str, kind: str, payload: dict[str, Any]) -> JobEvent:
        """Log an event with the job's next ``seq`` (1, 2, ...), in this transaction."""
        # UPDATE ... RETURNING takes the job row's write lock, so concurrent appenders on
        # PostgreSQL queue up instead of both reading the same max(seq).
        seq = self.session.scalar(
            update(Job)
            .where(Job.id == job_id)
            .values(event_seq=Job.event_seq + 1)
            .returning(Job.event_seq)
            .execution_options(synchronize_session=False)
        )
        if seq is None:
            raise NotFound(f"no job {job_id!r}", field="job_id")
        event = JobEvent(job_id=job_id, seq=seq, kind=kind, payload=payload, created_at=utcnow())
        self.session.add(event)
        self.session.flush()
        return event

    def events_after(
        self, job_id: str, seq: int = 0, *, limit: int | None = None
    ) -> builtins.list[JobEvent]:  # ``list`` in this class is the method above
        """Events with ``seq`` greater than ``seq``, oldest first (resume an SSE stream)."""
        query = (
            select(JobEvent)
            .where(JobEvent.job_id == job_id, JobEvent.seq > seq)
            .order_by(JobEvent.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        return list(self.session.scalars(query))

    def request_cancel(self, tenant_id: int, job_id: str) -> Job:
        """Cancel a job: a queued one at once (status CANCELLED, a ``cancelled`` event, its
        webhook queued), a running one by setting ``cancel_requested`` for its worker to act
        on within seconds; a finished one is returned unchanged."""
        job = self.get(tenant_id, job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}", fix="see GET /api/v1/jobs", field="job_id")
        now = utcnow()
        # Conditional on still being queued, so a worker claiming it meanwhile wins cleanly.
        result = self.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.CANCELLED, completed_at=now, cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        # An UPDATE's result is a CursorResult (the one with rowcount); Session.execute is
        # typed for any statement.
        cancelled = cast(CursorResult[Any], result).rowcount
        if not cancelled:
            self.session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == JobStatus.RUNNING)
                .values(cancel_requested=True)
                .execution_options(synchronize_session=False)
            )
        self.session.refresh(job)
        if cancelled:
            self.append_event(
                job.id,
                "cancelled",
                {"done": True, "status": "cancelled", "timestamp": now.isoformat()},
            )
            OutboxRepository(self.session).enqueue_for_job(job)
        return job

    def stats(self) -> dict[str, int]:
        """Queue depth (queued jobs), running jobs and live workers (fresh heartbeat)."""
        counts = dict(
            self.session.execute(
                select(Job.status, func.count())
                .where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                .group_by(Job.status)
            ).all()
        )
        return {
            "queue_depth": int(counts.get(JobStatus.QUEUED, 0)),
            "running": int(counts.get(JobStatus.RUNNING, 0)),
            "workers": self.live_workers(),
        }

    def live_workers(self) -> int:
        """Workers with a heartbeat in the last :data:`WORKER_FRESH_SECONDS`, on any host."""
        fresh = utcnow() - timedelta(seconds=WORKER_FRESH_SECONDS)
        workers = self.session.scalar(
            select(func.count()).select_from(WorkerRecord).where(WorkerRecord.heartbeat_at >= fresh)
        )
        return int(workers or 0)

    def _by_idempotency_key(self, tenant_id: int, key: str) -> Job | None:
        return self.session.scalar(
            select(Job).where(Job.tenant_id == tenant_id, Job.idempotency_key == key)
        )

    @staticmethod
    def _same_request(existing: Job, digest: str) -> Job:
        if existing.request_hash != digest:
            raise IdempotencyConflict(
                f"idempotency key {existing.idempotency_key!r} was already used for a "
                "different request",
                fix="send the same body again, or use a new Idempotency-Key",
                idempotency_key=existing.idempotency_key,
                job_id=existing.id,
            )
        return existing
