"""Cancel, queue stats and the webhook outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import (
    DeliveryStatus,
    Job,
    JobRepository,
    JobStatus,
    JobType,
    NotFound,
    OutboxRepository,
    TenantRepository,
    WorkerRecord,
    job_webhook_payload,
)
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]


def _job(sessions: Sessions, *, webhook_url: str | None = None, tenant: str = "acme") -> Job:
    with sessions.begin() as s:
        owner = TenantRepository(s).get_or_create(tenant)
        return (
            JobRepository(s)
            .create(owner.id, JobType.SWEEP, {"spec": {}}, ticker="GOOGL", webhook_url=webhook_url)
            .job
        )


def _set(sessions: Sessions, job_id: str, **values: object) -> None:
    with sessions.begin() as s:
        s.execute(update(Job).where(Job.id == job_id).values(**values))


def test_cancel_of_a_queued_job_is_immediate_and_owes_its_webhook(sessions: Sessions) -> None:
    job = _job(sessions, webhook_url="http://127.0.0.1:9/hook")
    with sessions.begin() as s:
        cancelled = JobRepository(s).request_cancel(job.tenant_id, job.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.completed_at is not None
    with sessions() as s:
        events = JobRepository(s).events_after(job.id)
        deliveries = OutboxRepository(s).for_job(job.id)
    assert [e.kind for e in events] == ["cancelled"]
    assert events[0].payload["status"] == "cancelled"
    assert len(deliveries) == 1
    assert deliveries[0].event_type == "sweep.cancelled"
    assert deliveries[0].status is DeliveryStatus.PENDING
    assert deliveries[0].id.startswith("msg_")


def test_cancel_of_a_running_job_asks_its_worker(sessions: Sessions) -> None:
    job = _job(sessions)
    _set(sessions, job.id, status=JobStatus.RUNNING, lease_owner="w1")
    with sessions.begin() as s:
        asked = JobRepository(s).request_cancel(job.tenant_id, job.id)
    assert asked.status is JobStatus.RUNNING
    assert asked.cancel_requested is True
    with sessions() as s:
        assert JobRepository(s).events_after(job.id) == []


def test_cancel_leaves_a_finished_job_alone(sessions: Sessions) -> None:
    job = _job(sessions)
    _set(sessions, job.id, status=JobStatus.COMPLETED)
    with sessions.begin() as s:
        same = JobRepository(s).request_cancel(job.tenant_id, job.id)
    assert same.status is JobStatus.COMPLETED
    assert same.cancel_requested is False


def test_cancel_of_another_tenants_job_is_not_found(sessions: Sessions) -> None:
    job = _job(sessions)
    with sessions.begin() as s:
        other = TenantRepository(s).create("other")
    with sessions.begin() as s, pytest.raises(NotFound):
        JobRepository(s).request_cancel(other.id, job.id)


def test_stats_count_queue_running_and_fresh_workers(sessions: Sessions) -> None:
    queued = [_job(sessions) for _ in range(3)]
    _set(sessions, queued[0].id, status=JobStatus.RUNNING)
    now = utcnow()
    with sessions.begin() as s:
        s.add(WorkerRecord(id="fresh", hostname="h", pid=1, heartbeat_at=now, started_at=now))
        stale = now - timedelta(minutes=5)
        s.add(WorkerRecord(id="stale", hostname="h", pid=2, heartbeat_at=stale, started_at=stale))
    with sessions() as s:
        assert JobRepository(s).stats() == {"queue_depth": 2, "running": 1, "workers": 1}


def test_no_webhook_url_queues_nothing(sessions: Sessions) -> None:
    job = _job(sessions)
    _set(sessions, job.id, status=JobStatus.COMPLETED)
    with sessions.begin() as s:
        fresh = s.get(Job, job.id)
        assert OutboxRepository(s).enqueue_for_job(fresh) is None


def test_payload_shapes_for_completed_and_failed(sessions: Sessions) -> None:
    job = _job(sessions, webhook_url="http://127.0.0.1:9/hook")
    done = utcnow()
    _set(
        sessions,
        job.id,
        status=JobStatus.COMPLETED,
        completed_at=done,
        result={"sweep_run_id": "run-1", "total_combinations": 8},
        metrics={"duration_seconds": 1.5},
    )
    with sessions() as s:
        payload = job_webhook_payload(s.get(Job, job.id))
    assert payload == {
        "event_type": "sweep.completed",
        "job_id": job.id,
        "sweep_run_id": "run-1",
        "status": "completed",
        "ticker": "GOOGL",
        "result_data": {
            "sweep_run_id": "run-1",
            "total_combinations": 8,
            "execution_time_seconds": 1.5,
            "completed_at": done.isoformat(),
        },
        "timestamp": done.isoformat(),
    }
    _set(sessions, job.id, status=JobStatus.FAILED, error="boom", result=None)
    with sessions() as s:
        failed = job_webhook_payload(s.get(Job, job.id))
    assert failed["event_type"] == "sweep.failed"
    assert failed["error_message"] == "boom"
    assert "result_data" not in failed


def test_a_running_job_has_no_webhook_payload(sessions: Sessions) -> None:
    job = _job(sessions)
    with sessions() as s, pytest.raises(ValueError, match="only a finished job"):
        job_webhook_payload(s.get(Job, job.id))
