"""Job retention: old finished jobs go with their results, events and deliveries; queued and
running ones, and recent ones, stay. On SQLite and PostgreSQL, through ``prune_jobs`` and
``tradesweep db prune``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.store import (
    FINISHED_STATUSES,
    BacktestRun,
    BacktestTrade,
    Job,
    JobEvent,
    JobRepository,
    JobStatus,
    JobType,
    SweepResultRepository,
    SweepResultRow,
    SweepRun,
    TenantRepository,
    WebhookAttempt,
    WebhookDelivery,
)
from tradesweep.store.retention import prune_jobs

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=45)
NEW = NOW - timedelta(days=5)

MakeJob = Callable[[JobStatus, datetime], str]


@pytest.fixture
def make_job(sessions: sessionmaker[Session]) -> MakeJob:
    """A job of ``status`` created and (if finished) finished at ``when``, with one event,
    a sweep run of two rows, a backtest run with a trade and a delivery with an attempt."""
    count = iter(range(1000))

    def make(status: JobStatus, when: datetime) -> str:
        n = next(count)
        with sessions.begin() as s:
            tenant = TenantRepository(s).get_or_create("acme")
            jobs = JobRepository(s)
            job = jobs.create(tenant.id, JobType.SWEEP, {"spec": {}}, ticker="GOOGL").job
            job.status = status
            job.created_at = when
            job.completed_at = when if status.terminal else None
            jobs.append_event(job.id, "progress", {"done": 1})
            SweepResultRepository(s).write(
                tenant_id=tenant.id,
                job_id=job.id,
                ticker="GOOGL",
                strategy="sma_crossover",
                spec={},
                rows=[
                    {"params": {"fast": 10}, "metrics": {"bars": 10}, "score": 1.0, "rank": 1},
                    {"params": {"fast": 20}, "metrics": {"bars": 10}, "score": 0.5, "rank": 2},
                ],
            )
            run = BacktestRun(tenant_id=tenant.id, job_id=job.id, spec={}, metrics={})
            s.add(run)
            s.flush()
            s.add(_trade(run.id, when))
            delivery = WebhookDelivery(
                id=f"msg_{n}",
                job_id=job.id,
                tenant_id=tenant.id,
                url="https://example.com/hook",
                event_type="job.completed",
                payload={},
            )
            s.add(delivery)
            s.flush()
            s.add(WebhookAttempt(delivery_id=delivery.id, attempt=1, status_code=200))
            return job.id

    return make


def _trade(run_id: str, when: datetime) -> BacktestTrade:
    return BacktestTrade(
        backtest_run_id=run_id,
        seq=0,
        entry_time=when,
        exit_time=when,
        entry_idx=0,
        exit_idx=1,
        side=1,
        units=1.0,
        entry_price=1.0,
        exit_price=1.0,
        pnl=0.0,
        pnl_pct=0.0,
        fees=0.0,
        bars_held=1,
        exit_reason=0,
    )


def _left(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                Job,
                JobEvent,
                SweepRun,
                SweepResultRow,
                BacktestRun,
                BacktestTrade,
                WebhookDelivery,
                WebhookAttempt,
            )
        }


def _statuses(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as s:
        return {job.id: job.status.value for job in s.scalars(select(Job))}


def test_old_finished_jobs_go_with_everything_hanging_off_them(
    sessions: sessionmaker[Session], make_job: MakeJob
) -> None:
    old = {status: make_job(status, OLD) for status in JobStatus}
    recent = make_job(JobStatus.COMPLETED, NEW)
    pruned = prune_jobs(sessions, older_than=timedelta(days=30), now=NOW)
    assert pruned.jobs == 3
    assert (pruned.sweep_runs, pruned.backtest_runs, pruned.deliveries) == (3, 3, 3)
    kept = {old[JobStatus.QUEUED], old[JobStatus.RUNNING], recent}
    assert set(_statuses(sessions)) == kept
    assert _left(sessions) == {
        "jobs": 3,
        "job_events": 3,
        "sweep_runs": 3,
        "sweep_results": 6,
        "backtest_runs": 3,
        "backtest_trades": 3,
        "webhook_deliveries": 3,
        "webhook_attempts": 3,
    }
    assert prune_jobs(sessions, older_than=timedelta(days=30), now=NOW).jobs == 0


def test_only_the_statuses_asked_for(sessions: sessionmaker[Session], make_job: MakeJob) -> None:
    ids = {status: make_job(status, OLD) for status in FINISHED_STATUSES}
    pruned = prune_jobs(
        sessions,
        older_than=timedelta(days=30),
        statuses=(JobStatus.COMPLETED, JobStatus.FAILED),
        now=NOW,
    )
    assert pruned.jobs == 2
    assert set(_statuses(sessions)) == {ids[JobStatus.CANCELLED]}


def test_queued_or_running_are_never_pruned(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="queued"):
        prune_jobs(sessions, older_than=timedelta(days=1), statuses=(JobStatus.QUEUED,))


def test_db_prune_command(
    db_url: str,
    sessions: sessionmaker[Session],
    make_job: MakeJob,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    old = {status: make_job(status, now - timedelta(days=45)) for status in JobStatus}
    make_job(JobStatus.COMPLETED, now - timedelta(days=5))
    monkeypatch.delenv("TRADESWEEP_DATABASE_URL", raising=False)
    args = ["db", "prune", "--older-than", "30d", "--status", "completed,failed", "--url", db_url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "pruned 2 job(s) finished more than 30 days ago (completed, failed)" in result.output
    assert "2 sweep run(s), 2 backtest(s), 2 webhook delivery(ies)" in result.output
    left = _statuses(sessions)
    assert old[JobStatus.COMPLETED] not in left and old[JobStatus.FAILED] not in left
    assert len(left) == 4


def test_db_prune_without_status_prunes_every_finished_job(
    db_url: str,
    sessions: sessionmaker[Session],
    make_job: MakeJob,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    old = {status: make_job(status, now - timedelta(days=45)) for status in JobStatus}
    monkeypatch.delenv("TRADESWEEP_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["db", "prune", "--older-than", "30d", "--url", db_url])
    assert result.exit_code == 0, result.output
    assert "pruned 3 job(s) finished more than 30 days ago (completed, failed, cancelled)" in (
        result.output
    )
    assert set(_statuses(sessions)) == {old[JobStatus.QUEUED], old[JobStatus.RUNNING]}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--older-than", "30"], ["--older-than", "'30'", "e.g. 30d"]),
        (["--older-than", "0d"], ["--older-than", "positive"]),
        (["--older-than", "36501d"], ["--older-than", "at most 36,500 days"]),
        (["--older-than", "876001h"], ["--older-than", "at most 36,500 days"]),
        (["--older-than", "99999999999w"], ["--older-than", "at most 36,500 days"]),
        (["--older-than", "30d", "--status", "running"], ["running", "never pruned"]),
        (["--older-than", "30d", "--status", "complete"], ["complete", "did you mean"]),
    ],
)
def test_db_prune_bad_input_is_one_line(db_url: str, args: list[str], words: list[str]) -> None:
    result = CliRunner().invoke(app, ["db", "prune", *args, "--url", db_url])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0]
