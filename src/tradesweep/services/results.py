"""Stored results as the routes read them: sweep runs and their rows, backtest runs and their
trades. Each read is tenant-scoped where it reads a tenant's rows, and a missing (or another
tenant's) id raises :class:`NotFound` naming the field, so a route only shapes the answer."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import (
    METRIC_COLUMNS,
    BacktestRepository,
    BacktestRun,
    BacktestTrade,
    JobRepository,
    JobType,
    NotFound,
    SweepResultRepository,
    SweepResultRow,
    SweepRun,
)
from tradesweep.store.pagination import Page

__all__ = [
    "METRIC_COLUMNS",
    "NotFound",
    "backtest_run",
    "backtest_trades",
    "best_rows",
    "count_rows",
    "result_page",
    "row_batches",
    "sweep_run",
]


def sweep_run(session: Session, tenant_id: int, run_or_job_id: str) -> SweepRun:
    """The tenant's sweep run with this id, or the newest run of the tenant's sweep job with
    this id; :class:`NotFound` otherwise (another tenant's ids included)."""
    run = SweepResultRepository(session).get_run(tenant_id, run_or_job_id)
    if run is not None:
        return run
    job = JobRepository(session).get(tenant_id, run_or_job_id)
    if job is not None and job.type is JobType.SWEEP:
        runs = SweepResultRepository(session).runs_for_job(job.id)
        if runs:
            return runs[-1]
        raise NotFound(
            f"sweep job {job.id} has no results yet (status {job.status.value})",
            fix=f"poll GET /api/v1/jobs/{job.id} until its status is completed",
            field="sweep_run_id",
            status=job.status.value,
        )
    raise NotFound(
        f"no sweep run {run_or_job_id!r}",
        fix="use the sweep_run_id (or job_id) of one of your completed sweeps",
        field="sweep_run_id",
    )


def _ranked(run_id: str, ticker: str | None):  # type: ignore[no-untyped-def]
    query = select(SweepResultRow).where(
        SweepResultRow.sweep_run_id == run_id, SweepResultRow.rank.is_not(None)
    )
    if ticker is not None:
        query = query.where(SweepResultRow.ticker == ticker)
    return query


def best_rows(
    session: Session, run_id: str, ticker: str | None, limit: int
) -> list[SweepResultRow]:
    """The ``limit`` ranked rows of a run with the highest score (rows below ``min_trades``
    or with an undefined score are not ranked and never listed as best)."""
    query = _ranked(run_id, ticker).order_by(
        SweepResultRow.score.desc().nulls_last(), SweepResultRow.rank, SweepResultRow.id
    )
    return list(session.scalars(query.limit(limit)))


def count_rows(session: Session, run_id: str, ticker: str | None, *, ranked: bool) -> int:
    if ranked:
        base = _ranked(run_id, ticker).subquery()
        return session.scalar(select(func.count()).select_from(base)) or 0
    query = select(func.count()).where(SweepResultRow.sweep_run_id == run_id)
    if ticker is not None:
        query = query.where(SweepResultRow.ticker == ticker)
    return session.scalar(query) or 0


def row_batches(
    sessions: sessionmaker[Session], run_id: str, batch: int = 1000
) -> Iterator[list[SweepResultRow]]:
    """Every row of a run in stored order, ``batch`` rows at a time, each batch read in its
    own transaction."""
    cursor = None
    while True:
        with sessions.begin() as session:
            page = SweepResultRepository(session).page(run_id, limit=batch, cursor=cursor)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def result_page(
    session: Session, run_id: str, *, limit: int, cursor: str | None
) -> tuple[Page[SweepResultRow], int]:
    """One page of a run's rows in stored order, and how many rows the run has."""
    repo = SweepResultRepository(session)
    return repo.page(run_id, limit=limit, cursor=cursor), repo.count(run_id)


def backtest_run(session: Session, tenant_id: int, backtest_run_id: str) -> BacktestRun:
    """The tenant's backtest run; :class:`NotFound` otherwise (another tenant's included)."""
    run = BacktestRepository(session).get(tenant_id, backtest_run_id)
    if run is None:
        raise NotFound(
            f"no backtest run {backtest_run_id!r}",
            fix="use the backtest_run_id from a completed backtest job's result",
            field="backtest_run_id",
        )
    return run


def backtest_trades(session: Session, run_id: str) -> list[BacktestTrade]:
    """The run's closed trades in order."""
    return list(BacktestRepository(session).trades(run_id))
