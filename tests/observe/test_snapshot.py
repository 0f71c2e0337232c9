"""The database half of /metrics, read from real rows on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tradesweep.observe import Metrics
from tradesweep.observe.snapshot import read_snapshot, snapshot_reader
from tradesweep.store import (
    JobRepository,
    JobStatus,
    JobType,
    SweepResultRepository,
    TenantRepository,
    WorkerRecord,
)
from tradesweep.store.types import utcnow


def _sweep_job(session: Session, tenant_id: int, ticker: str, **values: object) -> str:
    job = JobRepository(session).create(tenant_id, JobType.SWEEP, {"spec": {}}, ticker=ticker).job
    for name, value in values.items():
        setattr(job, name, value)
    session.flush()
    return job.id


def test_snapshot_counts_what_the_rows_say(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with sessions.begin() as s:
        tenant = TenantRepository(s).create("acme")
        _sweep_job(s, tenant.id, "GOOGL")  # queued
        _sweep_job(s, tenant.id, "GOOGL", status=JobStatus.RUNNING, started_at=now)
        best = {"metrics": {"sharpe_ratio": 0.8}}
        done = _sweep_job(
            s,
            tenant.id,
            "GOOGL",
            status=JobStatus.COMPLETED,
            started_at=now - timedelta(seconds=42),
            completed_at=now,
            result={"best": best},
        )
        _sweep_job(
            s,
            tenant.id,
            "GOOGL",
            status=JobStatus.COMPLETED,
            started_at=now - timedelta(seconds=5),
            completed_at=now,
            result={"best": {"metrics": {"sharpe_ratio": 1.4}}},
        )
        _sweep_job(s, tenant.id, "EURUSD", status=JobStatus.CANCELLED, completed_at=now)
        SweepResultRepository(s).write(
            tenant_id=tenant.id,
            ticker="GOOGL",
            strategy="sma_crossover",
            spec={},
            rows=[],
            job_id=done,
            evaluated=96,
        )
        s.add(WorkerRecord(id="w1", hostname="h", pid=1, started_at=now, heartbeat_at=now))
    with sessions() as s:
        snap = read_snapshot(s)
    assert snap.jobs_by_status == {"queued": 1, "running": 1, "completed": 2, "cancelled": 1}
    assert snap.workers == 1
    assert sorted(snap.sweep_durations[("completed", "GOOGL")]) == [5.0, 42.0]
    assert ("cancelled", "EURUSD") not in snap.sweep_durations  # never started
    assert snap.results_by_ticker == {"GOOGL": 96}
    assert snap.best_sharpe_by_ticker == {"GOOGL": 1.4}

    metrics = Metrics(snapshot=snapshot_reader(sessions))
    assert metrics.registry.get_sample_value("pipeline_trading_queue_depth") == 1
    assert (
        metrics.registry.get_sample_value(
            "pipeline_trading_sweep_jobs_completed_total",
            {"status": "completed", "ticker": "GOOGL"},
        )
        == 2
    )
