"""The worker end to end on SQLite and PostgreSQL: a Worker on a thread of the test process,
each attempt a real child process. Results, retries, timeout, cancel and stop."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import DatasetRegistry, load_sample
from tradesweep.environment import RuntimeSettings
from tradesweep.jobs import finish
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec
from tradesweep.store import (
    BacktestRepository,
    Job,
    JobRepository,
    JobStatus,
    OutboxRepository,
    SweepResultRepository,
    SweepRun,
    WorkerRecord,
)
from tradesweep.strategies.defaults import resolve_defaults

Sessions = sessionmaker[Session]
HOOK = "http://127.0.0.1:9/hook"


def _finished(read_job: Callable[[str], Job], job_id: str) -> Callable[[], Job | None]:
    def check() -> Job | None:
        job = read_job(job_id)
        return job if job.status.terminal else None

    return check


def _events(sessions: Sessions, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    with sessions() as session:
        return [(e.kind, e.payload) for e in JobRepository(session).events_after(job_id)]


def test_a_sweep_jobs_progress_events_name_each_phase_in_order(
    make_job, read_job, run_worker, wait, sessions: Sessions, specs
) -> None:
    job_id = make_job("sweep", specs.slow(6, 0.0), ticker="GOOGL")
    with run_worker():
        job = wait(_finished(read_job, job_id), 60, "the sweep to finish")
    assert job.status is JobStatus.COMPLETED, job.error
    progress = [payload for kind, payload in _events(sessions, job_id) if kind == "progress"]
    phases = [p["phase"] for p in progress]
    # the evaluation's reports (at most every 0.5 s, the 100 % one always), then each phase once
    evaluating = phases.count("evaluating")
    assert evaluating >= 1
    assert phases == ["evaluating"] * evaluating + [
        "diagnostics",
        "preparing results",
        "storing results",
    ]
    assert progress[evaluating - 1]["message"] == "Processing 6/6"
    assert progress[evaluating]["message"].startswith("Diagnostics")
    assert progress[-1]["message"] == "Storing the results"
    assert all(p["percent"] == 100.0 for p in progress[evaluating - 1 :])
    assert [kind for kind, _ in _events(sessions, job_id)][-1] == "completed"


def test_a_sweep_job_is_run_and_its_results_written_once(
    sessions: Sessions, make_job, read_job, run_worker, wait, specs
) -> None:
    job_id = make_job("sweep", specs.slow(6, 0.0), webhook_url=HOOK, ticker="GOOGL")
    with run_worker():
        job = wait(_finished(read_job, job_id), 60, "the sweep to finish")

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.attempts == 1 and job.error is None and job.progress == 100
    assert job.started_at is not None and job.completed_at is not None
    assert set(job.result) == {
        "sweep_run_id",
        "total_combinations",
        "grid_combinations",
        "evaluated",
        "winner",
        "best",
        "diagnostics",
        "warnings",
    }
    assert job.result["total_combinations"] == job.result["evaluated"] == 6
    assert job.result["best"]["params"] == job.result["winner"]
    assert {"score", "rank", "metrics"} <= set(job.result["best"])
    assert {"duration_seconds", "combinations_tested", "bars"} <= set(job.metrics)
    assert job.metrics["combinations_tested"] == 6

    with sessions() as session:
        runs = SweepResultRepository(session).runs_for_job(job_id)
        assert [run.id for run in runs] == [job.result["sweep_run_id"]]
        assert SweepResultRepository(session).count(runs[0].id) == 6
        assert runs[0].tenant_id == job.tenant_id and runs[0].ticker == "GOOGL"
        deliveries = OutboxRepository(session).for_job(job_id)
    assert [d.event_type for d in deliveries] == ["sweep.completed"]

    events = _events(sessions, job_id)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert set(kinds[1:-1]) == {"progress"}
    assert events[0][1]["message"] == "Started (attempt 1 of 3)"
    assert events[-2][1]["percent"] == 100.0
    assert events[-1][1]["sweep_run_id"] == job.result["sweep_run_id"]
    assert events[-1][1]["done"] is True


def test_backtest_and_walkforward_jobs_complete(
    sessions: Sessions, make_job, read_job, run_worker, wait
) -> None:
    backtest = make_job(
        "backtest", {"data": "GOOGL", "strategy": "sma_crossover", "params": {"fast": 10}}
    )
    walkforward = make_job(
        "walkforward",
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"fast": "5:15:5", "slow": "30:50:10"},
            "train_bars": 1000,
            "test_bars": 500,
        },
    )
    with run_worker(concurrency=2):
        done = [wait(_finished(read_job, j), 90, "both jobs") for j in (backtest, walkforward)]

    assert [j.status for j in done] == [JobStatus.COMPLETED] * 2, [j.error for j in done]
    bt, wf = done
    with sessions() as session:
        run = BacktestRepository(session).get(bt.tenant_id, bt.result["backtest_run_id"])
        assert run is not None and run.job_id == bt.id
        assert (
            len(BacktestRepository(session).trades(run.id)) == bt.result["metrics"]["total_trades"]
        )
    assert bt.metrics["combinations_tested"] == 1
    assert len(wf.result["windows"]) == 2
    assert wf.metrics["bars"] == 2335 and wf.metrics["combinations_tested"] == 2 * 9


@pytest.mark.slow
def test_a_job_that_always_fails_is_retried_then_failed_with_its_reason(
    sessions: Sessions, make_job, read_job, run_worker, wait, specs
) -> None:
    job_id = make_job("sweep", specs.boom(), webhook_url=HOOK)
    with run_worker():
        job = wait(_finished(read_job, job_id), 60, "the failing job to end")

    assert job.status is JobStatus.FAILED
    assert job.attempts == 3
    assert job.error == "RuntimeError: boom: this strategy always fails"
    events = _events(sessions, job_id)
    assert [kind for kind, _ in events] == [
        "started",
        "retry",
        "started",
        "retry",
        "started",
        "failed",
    ]
    retries = [p for kind, p in events if kind == "retry"]
    assert [p["attempt"] for p in retries] == [1, 2]
    assert all(p["run_after"] > p["timestamp"] for p in retries), "each retry waits"
    assert all(p["message"] == job.error for p in retries)
    assert events[2][1]["message"] == "Started (attempt 2 of 3)"
    assert events[-1][1] == {
        "error": True,
        "message": job.error,
        "timestamp": events[-1][1]["timestamp"],
    }
    with sessions() as session:
        deliveries = OutboxRepository(session).for_job(job_id)
        assert not SweepResultRepository(session).runs_for_job(job_id)
    assert [d.event_type for d in deliveries] == ["sweep.failed"]


def test_results_that_cannot_be_stored_leave_nothing_behind(
    sessions: Sessions, make_job, read_job, run_worker, wait, specs, monkeypatch
) -> None:
    def complete_then_fail(session: Session, job: Job, outcome: Any, now: Any) -> None:
        SweepResultRepository(session).write(
            tenant_id=job.tenant_id, ticker="X", strategy="s", spec={}, rows=outcome.rows
        )
        raise RuntimeError("disk full")

    monkeypatch.setattr(finish, "complete", complete_then_fail)
    job_id = make_job("sweep", specs.slow(3, 0.0), max_attempts=1)
    with run_worker():
        job = wait(_finished(read_job, job_id), 60, "the job to fail")
    assert job.status is JobStatus.FAILED
    assert job.error == "StoreError: RuntimeError: disk full"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SweepRun)) == 0


def test_bad_input_fails_at_once_without_retries(
    sessions: Sessions, make_job, read_job, run_worker, wait
) -> None:
    job_id = make_job(
        "sweep", {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fsat": "5:20:5"}}
    )
    with run_worker():
        job = wait(_finished(read_job, job_id), 60, "the bad job to fail")
    assert job.status is JobStatus.FAILED and job.attempts == 1
    assert job.error.startswith("ParameterError: unknown parameter 'fsat'")
    assert "did you mean 'fast'" in job.error
    assert "Traceback" not in job.error


@pytest.mark.slow
def test_a_timeout_kills_the_compute_and_its_whole_process_group(
    sessions: Sessions, make_job, read_job, run_worker, wait, specs, procs
) -> None:
    # 40 combinations of 0.3 s: the sweep starts its own process pool, all in the group
    job_id = make_job("sweep", specs.slow(40, 0.3), timeout_seconds=4)
    groups: dict[int, set[int]] = {}
    me = os.getpid()
    with run_worker(compute_workers=2):

        def timed_out() -> Job | None:
            for proc in procs.descendants(me).values():
                if proc.pgid != os.getpgid(0) and proc.live:
                    groups.setdefault(proc.pgid, set()).add(proc.pid)
            return _finished(read_job, job_id)()

        job = wait(timed_out, 30, "the timeout", interval=0.05)
        survivors = procs.live_in_groups(set(groups))

    assert job.status is JobStatus.FAILED
    assert job.attempts == 1, "a timeout is not retried"
    assert job.error.startswith("Timeout: the job ran longer than its timeout of 4 s")
    assert groups, "the compute's process group was never seen"
    assert max(len(members) for members in groups.values()) >= 2, groups
    assert not survivors, f"processes of the killed group survive: {survivors}"


def test_cancel_of_a_queued_job_means_it_never_runs(
    sessions: Sessions, make_job, read_job, run_worker, event_kinds, specs
) -> None:
    job_id = make_job("sweep", specs.slow(3, 0.0))
    with sessions.begin() as session:
        JobRepository(session).request_cancel(read_job(job_id).tenant_id, job_id)
    with run_worker(), sessions() as session:
        assert not session.scalar(select(Job.id).where(Job.status == JobStatus.RUNNING))
    assert read_job(job_id).status is JobStatus.CANCELLED
    assert event_kinds(job_id) == ["cancelled"]


@pytest.mark.slow
def test_cancel_of_a_running_job_stops_it_within_seconds(
    sessions: Sessions, make_job, read_job, run_worker, wait, event_kinds, specs, procs
) -> None:
    job_id = make_job("sweep", specs.slow(40, 0.25), webhook_url=HOOK)
    with run_worker(lease_seconds=3.0):
        wait(lambda: "progress" in event_kinds(job_id), 30, "the sweep to make progress")
        children = procs.descendants(os.getpid())
        with sessions.begin() as session:
            JobRepository(session).request_cancel(read_job(job_id).tenant_id, job_id)
        job = wait(_finished(read_job, job_id), 8, "the cancel to take effect")
        assert not procs.live({p for p, proc in children.items() if proc.pgid != os.getpgid(0)})

    assert job.status is JobStatus.CANCELLED and job.completed_at is not None
    assert event_kinds(job_id)[-1] == "cancelled"
    with sessions() as session:
        assert not SweepResultRepository(session).runs_for_job(job_id)
        assert [d.event_type for d in OutboxRepository(session).for_job(job_id)] == [
            "sweep.cancelled"
        ]


def test_stopping_the_worker_releases_its_running_job(
    sessions: Sessions, make_job, read_job, run_worker, wait, event_kinds, specs
) -> None:
    job_id = make_job("sweep", specs.slow(40, 0.25))
    with run_worker(shutdown_grace=0.3) as (worker, stop):
        wait(lambda: read_job(job_id).status is JobStatus.RUNNING, 30, "the job to start")
        with sessions() as session:
            record = session.get(WorkerRecord, worker.id)
            assert record is not None and record.concurrency == 1
            assert JobRepository(session).stats()["workers"] == 1
        stop.set()

    job = read_job(job_id)
    assert job.status is JobStatus.QUEUED
    assert job.attempts == 0, "an attempt cut short by a stopping worker does not count"
    assert job.lease_owner is None and job.lease_expires_at is None
    assert event_kinds(job_id) == ["started", "retry"] or event_kinds(job_id)[-1] == "retry"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(WorkerRecord)) == 0
        assert session.scalar(select(func.count()).select_from(SweepRun)) == 0


def test_a_worker_keeps_its_heartbeat_and_registers_again_when_its_row_is_gone(
    sessions: Sessions, run_worker, wait
) -> None:
    def heartbeat(worker_id: str) -> Any:
        with sessions() as session:
            record = session.get(WorkerRecord, worker_id)
            return record.heartbeat_at if record else None

    with run_worker(heartbeat_seconds=0.2) as (worker, _stop):
        first = wait(lambda: heartbeat(worker.id), 10, "the worker to register")
        wait(lambda: (heartbeat(worker.id) or first) > first, 10, "a heartbeat")
        with sessions.begin() as session:
            session.execute(delete(WorkerRecord))
        wait(lambda: heartbeat(worker.id), 10, "the worker to register again")
    assert heartbeat(worker.id) is None, "a clean exit unregisters"


def test_jobs_run_with_the_runtime_settings_the_worker_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_job, read_job, run_worker, wait
) -> None:
    """The compute process gets the worker's data dir, and the strategy defaults its spec
    records; it never reads the environment (here naming other values) itself."""
    data_dir = tmp_path / "datasets"
    DatasetRegistry(data_dir).register_frame(load_sample("GOOGL").iloc[:900], "ONLYHERE")
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("sma_crossover: {fast: 7, slow: 60}\n")
    other = tmp_path / "other.yaml"
    other.write_text("sma_crossover: {fast: 12, slow: 40}\n")
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TRADESWEEP_STRATEGY_DEFAULTS", str(other))
    spec = BacktestSpec.from_dict({"data": "ONLYHERE", "strategy": "sma_crossover"})
    spec = spec.with_defaults(resolve_defaults(defaults))
    job = make_job("backtest", spec.to_dict())
    with run_worker(runtime=RuntimeSettings(data_dir, strategy_defaults=other)):
        done = wait(_finished(read_job, job), 90, "the job")

    assert done.status == JobStatus.COMPLETED, done.error
    assert done.metrics["bars"] == 900
    registry = DatasetRegistry(data_dir)
    expected = run_backtest_spec(spec, registry=registry)
    packaged = run_backtest_spec(spec.replace(defaults={}), registry=registry)
    assert expected.metrics["total_trades"] != packaged.metrics["total_trades"]
    assert done.result["metrics"]["total_trades"] == expected.metrics["total_trades"]
