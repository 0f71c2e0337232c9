"""Leases and fencing: every write a worker makes to a job it runs is conditional on still
holding that job's lease.

A worker holds a job while ``status = 'running' AND lease_owner = <worker id> AND
lease_expires_at > now``. It renews the lease every second or so; a worker that stops
renewing (killed, frozen, cut off) loses the job when the lease runs out, and another worker
may claim it. From then on every write of the old worker matches zero rows (it is *fenced
out*) and :class:`LeaseLost` makes it drop what it has, results included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.jobs import events
from tradesweep.store import Job, JobRepository, JobStatus

Clock = Callable[[], datetime]


class LeaseLost(Exception):
    """The job is no longer this worker's: its lease ran out or another worker claimed it.
    Nothing of this attempt may be written."""

    def __init__(self, job_id: str, owner: str) -> None:
        super().__init__(f"worker {owner} no longer holds the lease on job {job_id}")
        self.job_id = job_id
        self.owner = owner


def held_by(job_id: str, owner: str, now: datetime) -> ColumnElement[bool]:
    """The fencing condition: ``owner`` holds a live lease on ``job_id`` at ``now``."""
    return and_(
        Job.id == job_id,
        Job.lease_owner == owner,
        Job.status == JobStatus.RUNNING,
        Job.lease_expires_at > now,
    )


def hold(session: Session, job_id: str, owner: str, now: datetime) -> Job:
    """Lock the job row if ``owner`` still holds its lease, else raise :class:`LeaseLost`.

    ``SELECT ... FOR UPDATE`` on PostgreSQL (the row stays locked until the transaction ends,
    so no claim can slip in between this check and the writes after it; a concurrent claim's
    ``SKIP LOCKED`` passes it by); on SQLite the transaction's ``BEGIN IMMEDIATE`` already
    holds the database's write lock."""
    job = session.scalar(
        select(Job)
        .where(held_by(job_id, owner, now))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise LeaseLost(job_id, owner)
    return job


@dataclass(frozen=True)
class Lease:
    """``owner``'s lease on one job: renewing it (and logging progress) is one fenced write."""

    sessions: sessionmaker[Session]
    job_id: str
    owner: str
    seconds: float
    clock: Clock

    def cancel_requested(self) -> bool:
        """Whether a cancel was asked for: one read, cheaper than a renewal, so the supervisor
        can ask between renewals."""
        with self.sessions() as session:
            return bool(session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))

    def renew(self, progress: tuple[int, int] | tuple[int, int, str] | None = None) -> bool:
        """Extend the lease by ``seconds`` from now; with ``progress`` (done, total, and the
        phase when past evaluating) also set ``jobs.progress`` and log a ``progress`` event, in
        the same transaction. Returns
        whether a cancel was requested; raises :class:`LeaseLost` (writing nothing) when the
        lease is gone."""
        now = self.clock()
        values: dict[str, object] = {"lease_expires_at": now + timedelta(seconds=self.seconds)}
        if progress is not None:
            values["progress"] = events.percent(progress[0], progress[1])
        with self.sessions.begin() as session:
            cancel_requested = session.scalar(
                update(Job)
                .where(held_by(self.job_id, self.owner, now))
                .values(**values)
                .returning(Job.cancel_requested)
                .execution_options(synchronize_session=False)
            )
            if cancel_requested is None:
                raise LeaseLost(self.job_id, self.owner)
            if progress is not None:
                JobRepository(session).append_event(
                    self.job_id, "progress", events.progress(*progress[:2], now, *progress[2:])
                )
        return bool(cancel_requested)
