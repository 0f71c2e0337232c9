"""Crash recovery and fencing with real ``tradesweep worker`` processes (2 s leases), on
SQLite and PostgreSQL: a worker killed mid-job, a worker frozen past its lease, SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import (
    Job,
    JobEvent,
    JobRepository,
    JobStatus,
    SweepResultRepository,
    WorkerRecord,
)
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]
pytestmark = pytest.mark.slow


def _status(read_job: Callable[[str], Job], job_id: str, status: JobStatus):
    def check() -> Job | None:
        job = read_job(job_id)
        return job if job.status is status else None

    return check


def _owned_by(read_job: Callable[[str], Job], job_id: str, pid: int):
    def check() -> Job | None:
        job = read_job(job_id)
        mine = job.status is JobStatus.RUNNING and f":{pid}:" in (job.lease_owner or "")
        return job if mine else None

    return check


def _one_run(sessions: Sessions, job: Job, rows: int) -> None:
    """Exactly one sweep run for the job, the one its result names, with ``rows`` rows."""
    with sessions() as session:
        runs = SweepResultRepository(session).runs_for_job(job.id)
        assert [run.id for run in runs] == [job.result["sweep_run_id"]]
        assert SweepResultRepository(session).count(runs[0].id) == rows
        kinds = [e.kind for e in JobRepository(session).events_after(job.id)]
    assert kinds.count("completed") == 1


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_once(
    sessions: Sessions, make_job, read_job, spawn_worker, wait, specs, procs, event_kinds
) -> None:
    job_id = make_job("sweep", specs.slow(8, 0.4))
    first = spawn_worker("--compute-workers", "2")
    wait(lambda: "progress" in event_kinds(job_id), 60, "the first worker to make progress")
    compute = procs.descendants(first.pid)
    assert compute, "the worker runs its compute in child processes"

    first.signal(signal.SIGKILL)
    first.process.wait(10)
    # its compute (and the sweep's pool) notices within a second and kills its own group
    wait(lambda: not procs.live(compute), 5, "the dead worker's compute to go")

    second = spawn_worker()
    job = wait(_status(read_job, job_id, JobStatus.COMPLETED), 60, "the job to complete")
    assert job.attempts == 2
    assert f":{second.pid}:" in job.lease_owner
    _one_run(sessions, job, rows=8)
    assert event_kinds(job_id).count("started") == 2


def test_a_worker_frozen_past_its_lease_cannot_write(
    sessions: Sessions, engine: Engine, make_job, read_job, spawn_worker, wait, specs
) -> None:
    job_id = make_job("sweep", specs.slow(10, 0.3))
    first = spawn_worker()
    wait(_owned_by(read_job, job_id, first.pid), 60, "the first worker to claim the job")
    _freeze(first.pid, engine, job_id)
    try:
        wait(
            lambda: read_job(job_id).lease_expires_at < utcnow(),
            10,
            "the frozen worker's lease to run out",
        )
        second = spawn_worker()
        wait(_owned_by(read_job, job_id, second.pid), 60, "the second worker to take over")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    # thawed while the second worker runs the job, the first finds its lease gone and drops
    # what its compute finished during the freeze
    job = wait(_status(read_job, job_id, JobStatus.COMPLETED), 60, "the job to complete")
    assert f":{second.pid}:" in job.lease_owner
    assert job.attempts == 2
    _one_run(sessions, job, rows=10)
    completed = f"job {job_id}: completed"
    assert completed not in first.log(), "the frozen worker wrote the results"
    wait(lambda: "lost its lease" in first.log(), 10, "the thawed worker to log its loss")
    assert completed in second.log()
    assert first.process.poll() is None, "the fenced-out worker carries on"


def test_sigterm_releases_the_running_job_and_exits_cleanly(
    sessions: Sessions, make_job, read_job, spawn_worker, wait, specs, procs, event_kinds
) -> None:
    job_id = make_job("sweep", specs.slow(40, 0.25))
    worker = spawn_worker("--grace", "0.5", "--compute-workers", "2")
    wait(_owned_by(read_job, job_id, worker.pid), 60, "the worker to claim the job")

    def compute_started() -> dict | None:
        # the claim is seen before the compute process exists; wait for the process itself
        found = procs.descendants(worker.pid)
        own_group = any(proc.pgid != worker.pid for proc in found.values())
        return found if own_group else None

    compute = wait(compute_started, 30, "the job's compute process to start")
    # past the first two combinations: the sweep's process pool is running
    wait(lambda: _percent(sessions, job_id) >= 5.0, 60, "the sweep's pool to make progress")
    compute.update(procs.descendants(worker.pid))
    worker.signal(signal.SIGTERM)
    assert worker.process.wait(15) == 0

    job = read_job(job_id)
    assert job.status is JobStatus.QUEUED and job.attempts == 0 and job.lease_owner is None
    assert event_kinds(job_id)[-1] == "retry"
    groups = {proc.pgid for proc in compute.values() if proc.pgid != worker.pid}
    assert groups, "the compute ran in its own process group"
    assert not procs.live_in_groups(groups), "the compute was killed before the exit"
    # the worker's forkserver and resource tracker follow it out
    wait(lambda: not procs.live(compute), 5, "the worker's helper processes to exit")
    # the compute stopped its pool and exited by itself before the group was killed, so it
    # unlinked the pool's semaphores: Python's resource tracker has none left to warn about
    assert "leaked semaphore" not in worker.log(), worker.log()
    with sessions() as session:
        assert session.scalar(select(WorkerRecord.id)) is None, "the worker unregistered"


def _percent(sessions: Sessions, job_id: str) -> float:
    with sessions() as session:
        events = session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.kind == "progress")
        )
        return max((float(e.payload.get("percent", 0.0)) for e in events), default=0.0)


def _freeze(pid: int, engine: Engine, job_id: str) -> None:
    """SIGSTOP ``pid`` at a moment it holds no database lock (a worker frozen inside a
    transaction would block everyone, which is not the case under test)."""
    for _ in range(50):
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.05)
        if _unlocked(engine, job_id):
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    pytest.fail("could not freeze the worker outside a transaction")


def _unlocked(engine: Engine, job_id: str) -> bool:
    if engine.dialect.name == "sqlite":
        path = make_url(str(engine.url)).database
        probe = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            probe.close()
    with contextlib.suppress(OperationalError), engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '50ms'"))
        conn.execute(select(Job.id).where(Job.id == job_id).with_for_update())
        return True
    return False
