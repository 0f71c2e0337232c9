"""Claiming, leases and fencing, on SQLite and PostgreSQL, with an explicit clock (no
processes): who may claim what and when, and that a worker without the lease writes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.jobs import Lease, LeaseLost, claim_next, finish, hold
from tradesweep.services.execute import WalkForwardOutcome
from tradesweep.store import Job, JobRepository, JobStatus, OutboxRepository
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]
LEASE = 30.0


def _claim(sessions: Sessions, owner: str, now: datetime):
    with sessions.begin() as session:
        return claim_next(session, owner, LEASE, now)


@pytest.fixture
def at() -> Callable[[float], datetime]:
    """``at(s)``: ``s`` seconds after a moment just past the jobs' creation."""
    base = utcnow() + timedelta(seconds=1)
    return lambda seconds=0.0: base + timedelta(seconds=seconds)


def _outcome() -> WalkForwardOutcome:
    return WalkForwardOutcome(result={"windows": []}, evaluated=0, bars=10, duration_seconds=1.0)


def test_claims_take_due_jobs_oldest_first_and_count_attempts(
    sessions: Sessions, at, make_job, read_job, event_kinds
) -> None:
    first = make_job("sweep", {"n": 1})
    second = make_job("sweep", {"n": 2})
    later = make_job("sweep", {"n": 3})
    with sessions.begin() as session:
        session.get(Job, later).run_after = at(3600)

    a = _claim(sessions, "a", at(1))
    b = _claim(sessions, "b", at(1))
    assert (a.id, b.id) == (first, second)
    assert _claim(sessions, "c", at(1)) is None, "run_after in the future is not due"
    assert a.attempt == 1 and a.max_attempts == 3 and a.spec == {"n": 1}
    job = read_job(first)
    assert job.status is JobStatus.RUNNING and job.lease_owner == "a" and job.attempts == 1
    assert job.lease_expires_at == at(1 + LEASE)
    assert event_kinds(first) == ["started"]
    # by then a's and b's leases have run out as well: all three are claimable
    retaken = [_claim(sessions, "c", at(3601)) for _ in range(4)]
    assert {j.id for j in retaken if j} == {first, second, later} and retaken[-1] is None


def test_an_expired_lease_is_claimed_again_and_fences_the_old_owner_out(
    sessions: Sessions, at, make_job, read_job
) -> None:
    job_id = make_job("walkforward", {})
    assert _claim(sessions, "a", at()).id == job_id
    assert _claim(sessions, "b", at(LEASE - 1)) is None, "a live lease is not claimable"

    taken = _claim(sessions, "b", at(LEASE + 1))
    assert taken.id == job_id and taken.attempt == 2

    a = Lease(sessions, job_id, "a", LEASE, clock=lambda: at(LEASE + 2))
    with pytest.raises(LeaseLost):
        a.renew((5, 10))
    with pytest.raises(LeaseLost), sessions.begin() as session:
        finish.complete(session, hold(session, job_id, "a", at(LEASE + 2)), _outcome(), at())
    job = read_job(job_id)
    assert job.lease_owner == "b" and job.status is JobStatus.RUNNING and job.result is None
    assert job.progress == 0

    b = Lease(sessions, job_id, "b", LEASE, clock=lambda: at(LEASE + 2))
    assert b.renew((5, 10)) is False
    assert read_job(job_id).progress == 50.0


def test_a_lease_that_ran_out_is_lost_even_when_nobody_took_the_job(
    sessions: Sessions, at, make_job, read_job
) -> None:
    job_id = make_job("walkforward", {})
    _claim(sessions, "a", at())
    late = Lease(sessions, job_id, "a", LEASE, clock=lambda: at(LEASE + 1))
    with pytest.raises(LeaseLost):
        late.renew()
    assert read_job(job_id).lease_expires_at == at(LEASE)


def test_renewing_reports_a_requested_cancel_and_logs_progress(
    sessions: Sessions, make_job, read_job
) -> None:
    job_id = make_job("sweep", {})
    _claim(sessions, "a", utcnow())
    lease = Lease(sessions, job_id, "a", LEASE, clock=utcnow)
    assert lease.renew((1, 4)) is False
    with sessions.begin() as session:
        JobRepository(session).request_cancel(read_job(job_id).tenant_id, job_id)
    assert lease.renew() is True
    with sessions() as session:
        events = JobRepository(session).events_after(job_id)
    assert [e.kind for e in events] == ["started", "progress"]
    assert events[1].payload["percent"] == 25.0
    assert events[1].payload["message"] == "Processing 1/4"
    assert read_job(job_id).status is JobStatus.RUNNING


def test_a_lease_lost_in_the_last_attempt_fails_the_job(
    sessions: Sessions, at, make_job, read_job, event_kinds
) -> None:
    job_id = make_job("sweep", {}, max_attempts=2, webhook_url="http://127.0.0.1:9/h")
    _claim(sessions, "a", at())
    _claim(sessions, "b", at(LEASE + 1))
    assert _claim(sessions, "c", at(3 * LEASE)) is None
    job = read_job(job_id)
    assert job.status is JobStatus.FAILED and job.attempts == 2
    assert job.error.startswith("LeaseExpired: worker b stopped renewing its lease")
    assert event_kinds(job_id) == ["started", "started", "failed"]
    with sessions() as session:
        assert [d.event_type for d in OutboxRepository(session).for_job(job_id)] == ["sweep.failed"]


def test_an_expired_job_with_a_cancel_request_is_cancelled_not_rerun(
    sessions: Sessions, at, make_job, read_job, event_kinds
) -> None:
    job_id = make_job("sweep", {})
    _claim(sessions, "a", at())
    with sessions.begin() as session:
        JobRepository(session).request_cancel(read_job(job_id).tenant_id, job_id)
    assert _claim(sessions, "b", at(LEASE + 1)) is None
    assert read_job(job_id).status is JobStatus.CANCELLED
    assert event_kinds(job_id) == ["started", "cancelled"]


def test_a_retry_after_a_cancel_request_cancels(sessions: Sessions, at, make_job, read_job) -> None:
    job_id = make_job("sweep", {})
    _claim(sessions, "a", at())
    with sessions.begin() as session:
        job = session.get(Job, job_id)
        job.cancel_requested = True
    with sessions.begin() as session:
        finish.retry(session, hold(session, job_id, "a", at()), "RuntimeError: x", at(), at())
    assert read_job(job_id).status is JobStatus.CANCELLED


def test_concurrent_claims_take_each_job_exactly_once(sessions: Sessions, at, make_job) -> None:
    jobs = {make_job("sweep", {"n": n}) for n in range(12)}
    taken: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def claimer(owner: str) -> None:
        try:
            barrier.wait()
            while (job := _claim(sessions, owner, at(1))) is not None:
                taken.append(job.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(taken) == sorted(jobs)
    with sessions() as session:
        assert session.scalar(select(func.max(Job.attempts))) == 1
