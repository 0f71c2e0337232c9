"""``tradesweep serve`` with a retention setting prunes old finished jobs on start and then
daily (SQLite and PostgreSQL, a real serve process); without one it keeps every job."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.store import Job, JobRepository, JobStatus, JobType, TenantRepository
from tradesweep.store.types import utcnow

from ..conftest import ServeProcess

WAIT_SECONDS = 60


def _jobs(sessions: sessionmaker[Session], days_ago: list[int]) -> list[str]:
    """One completed job finished ``d`` days ago for each ``d``."""
    ids = []
    with sessions.begin() as s:
        tenant = TenantRepository(s).get_or_create("acme")
        for days in days_ago:
            job = JobRepository(s).create(tenant.id, JobType.BACKTEST, {"n": days}).job
            job.status = JobStatus.COMPLETED
            job.created_at = job.completed_at = utcnow() - timedelta(days=days)
            ids.append(job.id)
    return ids


def _left(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(Job.id)))


def _wait_for_line(served: ServeProcess, text: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for line in [*served.stdout, *served.stderr]:
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} line:\n{''.join(served.stdout + served.stderr)}")


def test_serve_prunes_old_jobs_when_a_retention_is_set(
    db_url: str, sessions: sessionmaker[Session], run_serve: Callable[..., ServeProcess]
) -> None:
    old, recent = _jobs(sessions, [40, 5])
    served = run_serve(database_url=db_url, workers=0, env={"TRADESWEEP_RETENTION_DAYS": "30"})
    assert "retention: jobs finished more than 30 days ago are deleted daily" in "".join(
        served.stdout
    )
    line = _wait_for_line(served, "jobs_pruned")
    assert "jobs=1" in line or '"jobs": 1' in line, line
    assert _left(sessions) == {recent}
    assert old not in _left(sessions)


def test_serve_keeps_every_job_without_a_retention(
    db_url: str, sessions: sessionmaker[Session], run_serve: Callable[..., ServeProcess]
) -> None:
    ids = _jobs(sessions, [400])
    served = run_serve(database_url=db_url, workers=0)
    assert "retention: off" in "".join(served.stdout)
    assert _left(sessions) == set(ids)


@pytest.mark.parametrize("value", ["0", "abc", "-3", "36501", "99999999999"])
def test_a_bad_retention_is_one_line(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADESWEEP_RETENTION_DAYS", value)
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "TRADESWEEP_RETENTION_DAYS" in lines[0] and "whole number of days" in lines[0]
