"""``GET /api/v1/backtests/{id}/series``: what a backtest's charts need beyond its metrics and
trades (``GET /api/v1/backtests/{id}``): the price bars, equity, drawdown and monthly returns.

These per-bar series are not stored; the frozen spec of the run is replayed (a backtest is
deterministic and takes milliseconds). ``matches_stored`` says whether the replay ends on the
stored final equity; it does not when the ticker's data was replaced since the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tradesweep.api.deps import CallerDep, RegistryDep, short_transaction
from tradesweep.api.openapi import BY_ID
from tradesweep.data import DatasetRegistry
from tradesweep.services import results
from tradesweep.services.backtest import BacktestReport, run_backtest_spec
from tradesweep.specs import BacktestSpec

router = APIRouter(prefix="/api/v1/backtests", tags=["backtests"], responses=BY_ID)

RELATIVE_TOLERANCE = 1e-9


class MonthOut(BaseModel):
    year: int
    month: int = Field(description="1..12")
    return_pct: float


class SeriesOut(BaseModel):
    backtest_run_id: str
    ticker: str
    bars: int = Field(description="bars of the backtest")
    points: int = Field(description="points of each series below")
    bucket_bars: int = Field(description="bars merged into one point (1: every bar)")
    timestamps: list[datetime] = Field(description="each point's first bar (UTC)")
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    equity: list[float | None] = Field(description="equity at each point's last bar")
    drawdown_pct: list[float | None] = Field(description="deepest drawdown within each point, <= 0")
    initial_cash: float
    monthly_returns: list[MonthOut] = Field(description="months with bars, oldest first")
    matches_stored: bool = Field(description="the replay ends on the stored final equity")
    note: str | None


@dataclass(frozen=True)
class _Stored:
    spec: dict[str, Any]
    final_equity: float | None


@router.get("/{backtest_run_id}/series", response_model=SeriesOut)
async def backtest_series(
    backtest_run_id: str,
    caller: CallerDep,
    request: Request,
    registry: RegistryDep,
    max_points: Annotated[
        int, Query(ge=100, le=20_000, description="longer data is merged into OHLC buckets")
    ] = 3_000,
) -> SeriesOut:
    """Bars (OHLC), equity and drawdown per point, and the monthly returns of a backtest."""

    def read(session: Session) -> _Stored:
        run = results.backtest_run(session, caller.tenant_id, backtest_run_id)
        return _Stored(dict(run.spec), (run.metrics or {}).get("final_equity"))

    stored = await short_transaction(request, read)
    report = await run_in_threadpool(
        _replay,
        stored.spec,
        registry.for_tenant(caller.tenant_id),
    )
    return _series(backtest_run_id, report, stored.final_equity, max_points)


def _replay(spec: dict[str, Any], registry: DatasetRegistry) -> BacktestReport:
    """The stored backtest run again, with the default overrides its spec records."""
    return run_backtest_spec(BacktestSpec.from_dict(spec), registry=registry)


def _series(
    run_id: str, report: BacktestReport, stored_final: float | None, max_points: int
) -> SeriesOut:
    bars = report.bars
    equity = report.equity_frame()
    n = len(bars)
    bucket = max(1, math.ceil(n / max_points))
    group = np.arange(n) // bucket
    frame = pd.DataFrame(
        {
            "time": bars.index,
            "open": bars["open"].to_numpy(),
            "high": bars["high"].to_numpy(),
            "low": bars["low"].to_numpy(),
            "close": bars["close"].to_numpy(),
            "equity": equity["equity"].to_numpy(),
            "drawdown_pct": equity["drawdown_pct"].to_numpy(),
        }
    ).groupby(group)
    merged = frame.agg(
        time=("time", "first"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        equity=("equity", "last"),
        drawdown_pct=("drawdown_pct", "min"),
    )
    final = report.result.final_equity
    matches = stored_final is not None and math.isclose(
        final, float(stored_final), rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9
    )
    note = None
    if not matches:
        note = (
            f"replaying this backtest ends at {final:,.2f}, not at the stored "
            f"{stored_final if stored_final is None else f'{stored_final:,.2f}'}: "
            f"the data of {report.ticker} changed since it ran"
        )
    return SeriesOut(
        backtest_run_id=run_id,
        ticker=report.ticker,
        bars=n,
        points=len(merged),
        bucket_bars=bucket,
        timestamps=[t.to_pydatetime() for t in merged["time"]],
        open=_finite(merged["open"]),
        high=_finite(merged["high"]),
        low=_finite(merged["low"]),
        close=_finite(merged["close"]),
        equity=_finite(merged["equity"]),
        drawdown_pct=_finite(merged["drawdown_pct"]),
        initial_cash=report.settings.cash,
        monthly_returns=_months(report.monthly_returns),
        matches_stored=matches,
        note=note,
    )


def _finite(values: pd.Series) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in values.to_numpy(dtype=np.float64)]


def _months(table: pd.DataFrame) -> list[MonthOut]:
    out = []
    for year, row in table.iterrows():
        for month, value in row.items():
            if pd.notna(value) and math.isfinite(float(value)):
                out.append(MonthOut(year=int(year), month=int(month), return_pct=float(value)))
    return out
