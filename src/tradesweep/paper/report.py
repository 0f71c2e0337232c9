"""A replayed paper session read as a backtest: its metrics and its comparison with the
backtest of the same spec.

:func:`paper_result` turns a :class:`~tradesweep.paper.pipeline.PaperRun` into a
:class:`~tradesweep.engine.BacktestResult` (equity and position per candle, the closed trades
as ``trade_dt`` records), so the paper session's metrics come from the very functions the
backtest's do (:func:`~tradesweep.metrics.metrics_from_result`) and its trades have the
backtest's columns. The paper executor does not count bars where a stop and a target were
both touched, so ``stop_and_target_same_bar`` is 0 in a paper session's metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import DatasetRegistry
from tradesweep.engine.enums import EXIT_REASON_NAMES, trade_dt
from tradesweep.engine.result import BacktestResult
from tradesweep.metrics import metrics_from_result
from tradesweep.paper.pipeline import PaperRun
from tradesweep.paper.sources import ReplaySource
from tradesweep.specs import BacktestSpec


def paper_result(run: PaperRun) -> BacktestResult:
    """``run`` as an engine result: one row per candle, trades with bar indices and
    ``pnl_pct`` computed as the engine does (entry fee from the opening fill)."""
    if run.settings is None:
        raise ValueError("the run carries no settings (made by run_paper?)")
    index = pd.DatetimeIndex([s.time for s in run.snapshots])
    equity = np.array([s.equity for s in run.snapshots], dtype=np.float64)
    legs = {leg for s in run.snapshots for leg in s.positions}
    position = np.array(
        [sum(s.positions.get(leg, 0.0) for leg in legs) for s in run.snapshots], dtype=np.float64
    )
    entry_fees: list[float] = []
    opened: dict[str, float] = {}
    for fill in run.fills:
        if fill.opens:
            opened[fill.leg] = fill.fee
        else:
            entry_fees.append(opened.pop(fill.leg, 0.0))
    records = np.zeros(len(run.trades), dtype=trade_dt)
    for k, trade in enumerate(run.trades):
        entry_idx = int(index.get_loc(trade.entry_time))
        exit_idx = int(index.get_loc(trade.exit_time))
        entry_fee = entry_fees[k] if k < len(entry_fees) else 0.0
        records[k]["entry_idx"] = entry_idx
        records[k]["exit_idx"] = exit_idx
        records[k]["side"] = trade.side
        records[k]["units"] = trade.units
        records[k]["entry_price"] = trade.entry_price
        records[k]["exit_price"] = trade.exit_price
        records[k]["pnl"] = trade.pnl
        records[k]["pnl_pct"] = trade.pnl / (trade.units * trade.entry_price + entry_fee) * 100.0
        records[k]["fees"] = trade.fees
        records[k]["bars_held"] = exit_idx - entry_idx
        records[k]["exit_reason"] = EXIT_REASON_NAMES.index(trade.exit_reason)
    return BacktestResult(
        index=index,
        equity=equity,
        position=position,
        trades=records,
        stop_and_target_same_bar=0,
        total_fees=float(sum(fill.fee for fill in run.fills)),
        settings=run.settings,
    )


def paper_metrics(
    run: PaperRun, spec: BacktestSpec, registry: DatasetRegistry
) -> tuple[BacktestResult, dict[str, Any]]:
    """The run as an engine result and its metrics, computed as the backtest's are
    (``spec``'s ``periods_per_year`` and ``risk_free_rate``; the replayed bars' closes)."""
    result = paper_result(run)
    bars = ReplaySource(
        registry, spec.data, start=spec.start, end=spec.end, timeframe=spec.timeframe
    ).bars()
    close = bars["close"].reindex(result.index)
    metrics = metrics_from_result(
        result,
        close.to_numpy(dtype=np.float64),
        periods_per_year=spec.periods_per_year,
        risk_free_rate=spec.risk_free_rate,
    )
    return result, metrics


def max_equity_difference(paper: BacktestResult, backtest: BacktestResult) -> float | None:
    """The largest absolute difference between the two equity curves, bar by bar; None when
    their bars differ."""
    if not paper.index.equals(backtest.index):
        return None
    if paper.equity.size == 0:
        return 0.0
    return float(np.max(np.abs(paper.equity - backtest.equity)))
