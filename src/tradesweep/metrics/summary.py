"""The metrics dict of one backtest, and the guarantee that it is JSON without NaN/Infinity."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.errors import TradesweepError
from tradesweep.metrics import drawdown as dd_
from tradesweep.metrics import returns as ret_
from tradesweep.metrics.names import KEYS
from tradesweep.metrics.periods import (
    as_utc_index,
    check_periods_per_year,
    check_risk_free_rate,
    day_clock,
    infer_periods_per_year,
)
from tradesweep.metrics.trades import exposure_pct, trade_stats, trades_per_month


def compute_metrics(
    index: pd.Index | np.ndarray | list,
    equity: np.ndarray,
    position: np.ndarray,
    trades: Any,
    close: np.ndarray,
    *,
    initial_cash: float,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
    stop_and_target_same_bar: int = 0,
    total_fees: float | None = None,
) -> dict[str, Any]:
    """Every statistic of one backtest, keyed as :data:`~tradesweep.metrics.KEYS`.

    Args:
        index: bar timestamps (UTC; naive is taken as UTC).
        equity: mark-to-market equity at each bar's close.
        position: signed units held at each bar's close.
        trades: ``trade_dt`` records (or a DataFrame of them).
        close: the bars' close prices (for ``buy_and_hold_return_pct``).
        initial_cash: the cash before the first bar; the base of the first return.
        periods_per_year: bars per year; inferred by
            :func:`~tradesweep.metrics.infer_periods_per_year` when None.
        risk_free_rate: annual, a fraction (0.04 for 4 %); used by Sharpe and Sortino.
        stop_and_target_same_bar: passed through from the engine.
        total_fees: fees paid; the sum of ``trades["fees"]`` when None.

    Formulas (``docs/metrics.md`` has each with its null cases), with ``E`` the equity,
    ``C`` the initial cash, ``n`` the bars and ``r`` the per-bar returns of
    :func:`~tradesweep.metrics.returns.bar_returns` (the first one from ``C``):

    * ``total_return_pct = (E[-1] / C - 1) * 100``
    * ``buy_and_hold_return_pct = (close[-1] / close[0] - 1) * 100``
    * ``annualized_return_pct = ((E[-1] / C) ** (ppy / n) - 1) * 100``
    * ``annualized_volatility_pct = std(r, ddof=1) * sqrt(ppy) * 100``
    * ``sharpe_ratio = mean(r - rf_bar) / std(r, ddof=1) * sqrt(ppy)``
    * ``sortino_ratio = mean(r - rf_bar) / sqrt(mean(min(r, 0) ** 2)) * sqrt(ppy)``
    * ``calmar_ratio = annualized_return_pct / |max_drawdown_pct|``
    * drawdowns from the peak ``max(C, E[0..t])``: see :mod:`tradesweep.metrics.drawdown`
    * trade statistics: see :func:`~tradesweep.metrics.trades.trade_stats`
    * ``trades_per_month = total_trades / (elapsed_days / 30.4375)``
    * ``exposure_pct = count(position != 0) / n * 100``

    Returns a dict that :func:`json.dumps` accepts with ``allow_nan=False``: undefined values
    are ``None`` (see :data:`~tradesweep.metrics.NULL_REASONS`).

    Raises:
        TradesweepError: empty or mismatched arrays, non-finite equity, ``initial_cash <= 0``,
            ``periods_per_year <= 0`` or ``risk_free_rate <= -1``.
    """
    idx = as_utc_index(index)
    equity = np.asarray(equity, dtype=np.float64)
    position = np.asarray(position, dtype=np.float64)
    close = np.asarray(close, dtype=np.float64)
    _validate(idx, equity, position, close, initial_cash, periods_per_year, risk_free_rate)
    n = equity.size
    ppy = _periods_per_year(idx, periods_per_year)
    days = day_clock(idx)

    final = float(equity[-1])
    r = ret_.bar_returns(equity, initial_cash)
    cagr = ret_.annualized_return_pct(final, initial_cash, n, ppy)
    dd = dd_.drawdown_series(equity, initial_cash)
    episodes = dd_.drawdown_episodes(dd)
    max_dd = dd_.max_drawdown_pct(dd)
    stats = trade_stats(trades, days)
    elapsed_days = float(days[-1])
    if total_fees is None:
        total_fees = float(np.sum(trades["fees"])) if stats["total_trades"] else 0.0

    out: dict[str, Any] = {
        "start": idx[0].isoformat(),
        "end": idx[-1].isoformat(),
        "bars": n,
        "periods_per_year": ppy,
        "final_equity": final,
        "total_return_pct": ret_.total_return_pct(final, initial_cash),
        "buy_and_hold_return_pct": _buy_and_hold_pct(close),
        "annualized_return_pct": cagr,
        "annualized_volatility_pct": ret_.annualized_volatility_pct(r, ppy),
        "sharpe_ratio": ret_.sharpe_ratio(r, ppy, risk_free_rate),
        "sortino_ratio": ret_.sortino_ratio(r, ppy, risk_free_rate),
        "calmar_ratio": dd_.calmar_ratio(cagr, max_dd),
        "max_drawdown_pct": max_dd,
        "max_drawdown_duration_days": dd_.max_drawdown_duration_days(episodes, days),
        "avg_drawdown_pct": dd_.avg_drawdown_pct(episodes),
        **stats,
        "trades_per_month": trades_per_month(stats["total_trades"], elapsed_days),
        "exposure_pct": exposure_pct(position),
        "total_fees": float(total_fees),
        "stop_and_target_same_bar": int(stop_and_target_same_bar),
    }
    return to_json_safe({key: out[key] for key in KEYS})


def metrics_from_result(result: Any, bars: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`compute_metrics` of an engine result, read by duck typing: ``result.index``,
    ``.equity``, ``.position``, ``.trades``, ``.stop_and_target_same_bar``, ``.total_fees`` and
    ``.settings.cash``. ``bars`` is the bar frame (its ``close`` column, any case) or the close
    prices themselves. ``kwargs`` go to :func:`compute_metrics` (``periods_per_year``,
    ``risk_free_rate``)."""
    return compute_metrics(
        result.index,
        result.equity,
        result.position,
        result.trades,
        _close_of(bars),
        initial_cash=result.settings.cash,
        stop_and_target_same_bar=result.stop_and_target_same_bar,
        total_fees=result.total_fees,
        **kwargs,
    )


def to_json_safe(value: Any) -> Any:
    """``value`` with NaN and +-Infinity replaced by ``None``, numpy scalars and arrays made
    plain Python, timestamps made ISO strings and ``-0.0`` made ``0.0``, through nested dicts,
    lists and tuples. The result always passes ``json.dumps(..., allow_nan=False)``."""
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if value is pd.NaT:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return x + 0.0 if math.isfinite(x) else None
    if isinstance(value, pd.Timestamp | np.datetime64 | datetime):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    raise TypeError(f"cannot make {type(value).__name__} JSON-safe: {value!r}")


def _periods_per_year(idx: pd.DatetimeIndex, given: float | None) -> float | None:
    if given is not None:
        return float(given)
    if len(idx) < 2:
        return None
    return infer_periods_per_year(idx)


def _buy_and_hold_pct(close: np.ndarray) -> float | None:
    first, last = float(close[0]), float(close[-1])
    if not (first > 0 and math.isfinite(first) and math.isfinite(last)):
        return None
    return (last / first - 1.0) * 100.0


def _close_of(bars: Any) -> np.ndarray:
    columns = getattr(bars, "columns", None)
    if columns is None:
        return np.asarray(bars, dtype=np.float64)
    for name in columns:
        if str(name).lower() == "close":
            return np.asarray(bars[name], dtype=np.float64)
    raise TradesweepError(
        "the bars have no close column", fix="pass the bar frame the backtest ran on", field="bars"
    )


def _validate(
    idx: pd.DatetimeIndex,
    equity: np.ndarray,
    position: np.ndarray,
    close: np.ndarray,
    initial_cash: float,
    periods_per_year: float | None,
    risk_free_rate: float,
) -> None:
    n = equity.size
    if n == 0:
        raise TradesweepError("cannot compute metrics of an empty equity curve", field="equity")
    for name, length in (("index", len(idx)), ("position", position.size), ("close", close.size)):
        if length != n:
            raise TradesweepError(
                f"{name} has {length} bars but equity has {n}",
                fix="pass arrays of the same backtest, one value per bar",
                field=name,
            )
    if not np.isfinite(equity).all():
        bar = int(np.flatnonzero(~np.isfinite(equity))[0])
        raise TradesweepError(f"equity is not finite at bar {bar}", field="equity", bar=bar)
    if not (initial_cash > 0 and math.isfinite(initial_cash)):
        raise TradesweepError(
            f"initial_cash must be a positive number, got {initial_cash!r}", field="initial_cash"
        )
    check_periods_per_year(periods_per_year)
    check_risk_free_rate(risk_free_rate)
