"""Sweep and backtest results: written in one transaction, read back in rank/score order."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tradesweep.metrics.table import METRICS
from tradesweep.store.models import (
    METRIC_COLUMNS,
    TRADE_FIELDS,
    BacktestRun,
    BacktestTrade,
    SweepResultRow,
    SweepRun,
)
from tradesweep.store.pagination import Page, decode_cursor, encode_cursor
from tradesweep.store.types import utcnow

_TIME_METRICS = frozenset(m.key for m in METRICS if m.unit == "date")
_NOT_STORED = frozenset(m.key for m in METRICS if not m.stored)


class SweepResultRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def write(
        self,
        *,
        tenant_id: int,
        ticker: str,
        strategy: str,
        spec: dict[str, Any],
        rows: Iterable[Mapping[str, Any]],
        job_id: str | None = None,
        spec_id: str | None = None,
        grid_combinations: int = 0,
        valid_combinations: int = 0,
        evaluated: int = 0,
        diagnostics: dict[str, Any] | None = None,
    ) -> SweepRun:
        """Store a sweep run and all its result rows with one bulk INSERT (executemany).

        Each row has the shape of ``SweepResult.rows()``: ``params`` (dict), ``metrics``
        (dict over :data:`tradesweep.metrics.KEYS`), ``score``, ``rank`` and optionally
        ``grid_index``, ``below_min_trades`` and ``ticker`` (default the run's).
        Commit or roll back the session to keep or drop all of it.
        """
        run = SweepRun(
            tenant_id=tenant_id,
            job_id=job_id,
            ticker=ticker,
            strategy=strategy,
            spec=spec,
            spec_id=spec_id,
            grid_combinations=grid_combinations,
            valid_combinations=valid_combinations,
            evaluated=evaluated,
            diagnostics=diagnostics,
            created_at=utcnow(),
        )
        self.session.add(run)
        self.session.flush()
        records = [_result_record(run, row) for row in rows]
        if records:
            self.session.execute(insert(SweepResultRow), records)
        return run

    def get_run(self, tenant_id: int, run_id: str) -> SweepRun | None:
        """The run, or None when it does not exist or belongs to another tenant."""
        return self.session.scalar(
            select(SweepRun).where(SweepRun.id == run_id, SweepRun.tenant_id == tenant_id)
        )

    def runs_for_job(self, job_id: str) -> list[SweepRun]:
        return list(
            self.session.scalars(
                select(SweepRun).where(SweepRun.job_id == job_id).order_by(SweepRun.created_at)
            )
        )

    def best(self, run_id: str, ticker: str | None = None, limit: int = 10) -> list[SweepResultRow]:
        """The ``limit`` highest scores of a run (one ticker, or all), NULL scores last."""
        query = select(SweepResultRow).where(SweepResultRow.sweep_run_id == run_id)
        if ticker is not None:
            query = query.where(SweepResultRow.ticker == ticker)
        query = query.order_by(SweepResultRow.score.desc().nulls_last(), SweepResultRow.id).limit(
            limit
        )
        return list(self.session.scalars(query))

    def page(
        self, run_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[SweepResultRow]:
        """Every row of a run in insertion order (rank order when written ranked)."""
        query = select(SweepResultRow).where(SweepResultRow.sweep_run_id == run_id)
        if cursor is not None:
            (last_id,) = decode_cursor(cursor, int)
            query = query.where(SweepResultRow.id > last_id)
        rows = list(self.session.scalars(query.order_by(SweepResultRow.id).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, encode_cursor(rows[-1].id) if more else None)

    def count(self, run_id: str) -> int:
        return (
            self.session.scalar(select(func.count()).where(SweepResultRow.sweep_run_id == run_id))
            or 0
        )


class BacktestRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def write(
        self,
        *,
        tenant_id: int,
        spec: dict[str, Any],
        metrics: dict[str, Any],
        trades: np.ndarray,
        index: pd.DatetimeIndex,
        job_id: str | None = None,
        spec_id: str | None = None,
        ticker: str | None = None,
        strategy: str | None = None,
    ) -> BacktestRun:
        """Store a backtest run and its trades (``trade_dt`` records; ``index`` gives the
        bar timestamps their ``entry_idx``/``exit_idx`` point into) in one transaction."""
        run = BacktestRun(
            tenant_id=tenant_id,
            job_id=job_id,
            spec=spec,
            spec_id=spec_id,
            metrics=metrics,
            ticker=ticker,
            strategy=strategy,
            created_at=utcnow(),
        )
        self.session.add(run)
        self.session.flush()
        if len(trades):
            times = pd.DatetimeIndex(index)
            times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
            entry = times[trades["entry_idx"]].to_pydatetime()
            exit_ = times[trades["exit_idx"]].to_pydatetime()
            columns = {name: trades[name].tolist() for name in TRADE_FIELDS}
            records = [
                {
                    "backtest_run_id": run.id,
                    "seq": i,
                    "entry_time": entry[i],
                    "exit_time": exit_[i],
                    **{name: columns[name][i] for name in TRADE_FIELDS},
                }
                for i in range(len(trades))
            ]
            self.session.execute(insert(BacktestTrade), records)
        return run

    def get(self, tenant_id: int, run_id: str) -> BacktestRun | None:
        """The run, or None when it does not exist or belongs to another tenant."""
        return self.session.scalar(
            select(BacktestRun).where(BacktestRun.id == run_id, BacktestRun.tenant_id == tenant_id)
        )

    def trades(self, run_id: str) -> list[BacktestTrade]:
        return list(
            self.session.scalars(
                select(BacktestTrade)
                .where(BacktestTrade.backtest_run_id == run_id)
                .order_by(BacktestTrade.seq)
            )
        )


def _result_record(run: SweepRun, row: Mapping[str, Any]) -> dict[str, Any]:
    metrics = row.get("metrics") or {}
    unknown = set(metrics) - set(METRIC_COLUMNS) - _NOT_STORED
    if unknown:
        raise ValueError(
            f"metrics {sorted(unknown)} have no column in sweep_results; add them to the metric "
            "table (tradesweep.metrics.table), tradesweep.store.models.SweepResultRow and a "
            "migration"
        )
    record: dict[str, Any] = {
        "sweep_run_id": run.id,
        "ticker": row.get("ticker", run.ticker),
        "strategy": row.get("strategy", run.strategy),
        "grid_index": row.get("grid_index"),
        "params": dict(row["params"]),
        "score": _number(row.get("score")),
        "rank": row.get("rank"),
        "below_min_trades": bool(row.get("below_min_trades", False)),
    }
    for key in METRIC_COLUMNS:
        value = metrics.get(key)
        record[key] = _timestamp(value) if key in _TIME_METRICS else _number(value)
    return record


def _number(value: Any) -> Any:
    """numpy scalars to Python; NaN and infinities to None (never stored)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()
