"""The fused path: every combination of a built-in strategy in one parallel numba kernel.

Each built-in that has a fused form gets a :class:`FusedPlan`: which indicator rows to
compute (each distinct setting once: a fast/slow SMA grid over windows 2..200 needs 199 rows,
not 2 x 19,701) and, per combination, which rows and which float parameters its signals
read. :func:`run_fused` fills the rows, runs :func:`~tradesweep.sweep.fused_nb.sweep_nb` over
the combinations in chunks of ~0.25 s (progress and cancellation between chunks) and turns
the accumulators into metric columns with the formulas of ``docs/metrics.md``
(:func:`metrics_from_acc`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from tradesweep.engine.backtest import kernel_params
from tradesweep.engine.inputs import EngineInputs
from tradesweep.engine.settings import EngineSettings
from tradesweep.indicators.api import atr_values
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.indicators.nb import ewm_alpha
from tradesweep.metrics.returns import ZERO_STD, per_bar_risk_free
from tradesweep.metrics.trades import DAYS_PER_MONTH
from tradesweep.strategies.base import Strategy
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.sweep import fused_nb as k
from tradesweep.sweep import stats_nb as a
from tradesweep.sweep.axes import ATR_AXES, SETTING_AXES, risk_matrix
from tradesweep.sweep.progress import ProgressTracker

TARGET_CHUNK_SECONDS = 0.25
"""Wall time one kernel call aims for: progress and cancellation are looked at in between."""

_FIRST_CHUNK_BAR_COMBINATIONS = 5_000_000

Params = Mapping[str, np.ndarray]
"""Validated parameter columns, one array per parameter."""


@dataclass(frozen=True, eq=False)
class FusedPlan:
    """What the kernel reads: indicator rows ``(ind_kinds[j], windows[j])`` to compute once,
    and per combination its row numbers ``rows[c]`` and float parameters ``fpar[c]``."""

    kind: int
    ind_kinds: np.ndarray
    windows: np.ndarray
    rows: np.ndarray
    fpar: np.ndarray


def _distinct(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct values over ``columns`` and each column as positions into them."""
    values = np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in columns]))
    return values, [np.searchsorted(values, np.asarray(c, dtype=np.int64)) for c in columns]


def _pack(kind: int, ind_kind: int, windows: np.ndarray, rows, fpar) -> FusedPlan:
    n = rows[0].shape[0]
    fpar_arr = np.zeros((n, 2))
    for j, col in enumerate(fpar):
        fpar_arr[:, j] = col
    return FusedPlan(
        kind=kind,
        ind_kinds=np.full(windows.shape[0], ind_kind, dtype=np.int64),
        windows=windows,
        rows=np.ascontiguousarray(np.stack([*rows, *[np.zeros(n, np.int64)] * (2 - len(rows))], 1)),
        fpar=fpar_arr,
    )


def _crossover(ind_kind: int) -> Callable[[Params], FusedPlan]:
    def plan(params: Params) -> FusedPlan:
        windows, (fast, slow) = _distinct(params["fast"], params["slow"])
        return _pack(k.KIND_CROSS, ind_kind, windows, [fast, slow], [])

    return plan


def _rsi(params: Params) -> FusedPlan:
    windows, (period,) = _distinct(params["period"])
    thresholds = [
        np.asarray(params["oversold"], np.float64),
        np.asarray(params["overbought"], np.float64),
    ]
    return _pack(k.KIND_RSI, k.IND_RSI, windows, [period], thresholds)


def _macd(params: Params) -> FusedPlan:
    windows, (fast, slow) = _distinct(params["fast"], params["slow"])
    span = np.asarray(params["signal"], np.int64)
    alpha = np.array([ewm_alpha(float(s)) for s in span], dtype=np.float64)
    longest = np.maximum(np.asarray(params["fast"], np.int64), np.asarray(params["slow"], np.int64))
    first_hist = (longest - 1 + span - 1).astype(np.float64)
    return _pack(k.KIND_MACD, k.IND_EMA, windows, [fast, slow], [alpha, first_hist])


def _bollinger(params: Params) -> FusedPlan:
    periods, (period,) = _distinct(params["period"])
    m = periods.shape[0]
    plan = _pack(
        k.KIND_BOLLINGER,
        k.IND_SMA,
        np.concatenate([periods, periods]),
        [period, period + m],
        [
            np.asarray(params["num_std"], np.float64),
            np.asarray(params["min_bandwidth"], np.float64),
        ],
    )
    plan.ind_kinds[m:] = k.IND_ROLLING_STD
    return plan


PLANNERS: dict[str, Callable[[Params], FusedPlan]] = {
    "sma_crossover": _crossover(k.IND_SMA),
    "ema_crossover": _crossover(k.IND_EMA_FROM_SPAN),
    "rsi": _rsi,
    "macd": _macd,
    "bollinger": _bollinger,
}
"""Built-ins with a fused form, by name."""


TALIB_ROWS = {k.IND_EMA_FROM_SPAN: k.IND_EMA_TALIB, k.IND_ROLLING_STD: k.IND_ROLLING_POP_STD}
"""The ``talib`` convention's row for each ``pandas`` row that differs (SMA and RSI do not)."""
PANDAS_ONLY: tuple[str, ...] = ("macd",)
"""Fused built-ins with no ``talib`` rows: TA-Lib's MACD seeds its fast EMA from the slow
period (a row per (fast, slow) pair) and its signal EMA with a mean of the line."""


def talib_rows(plan: FusedPlan) -> FusedPlan:
    """``plan`` with its EMA and band-std rows in the ``talib`` convention."""
    if k.IND_EMA in plan.ind_kinds:
        raise ValueError("the fused MACD has no talib rows: run it on the general path")
    kinds = np.array([TALIB_ROWS.get(int(i), int(i)) for i in plan.ind_kinds], dtype=np.int64)
    return FusedPlan(plan.kind, kinds, plan.windows, plan.rows, plan.fpar)


def fused_name(cls: type[Strategy]) -> str | None:
    """The built-in name whose fused form computes ``cls``'s signals, or None. A subclass
    that only changes the schema (a defaults override) keeps the fused form; one that
    overrides ``signals`` does not."""
    name = getattr(cls, "name", None)
    builtin = BUILTINS.get(name) if name in PLANNERS else None
    if builtin is None or not issubclass(cls, builtin) or cls.signals is not builtin.signals:
        return None
    return name


class FusedOutput(NamedTuple):
    acc: np.ndarray  # (n_combinations, N_ACC) accumulator rows
    block_stats: np.ndarray  # (3, n_blocks, n_combinations): sum r, sum r**2, count


@contextmanager
def _threads(workers: int | None):
    """numba's thread count for this thread, restored afterwards."""
    before = numba.get_num_threads()
    if workers is not None:
        # numba.config fills its settings in at import, so its stubs do not declare them.
        most = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        numba.set_num_threads(max(1, min(int(workers), most)))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(before)


def indicator_cache(close: np.ndarray, plan: FusedPlan) -> np.ndarray:
    """The plan's indicator rows, ``(distinct settings, bars)`` float64."""
    out = np.empty((plan.windows.shape[0], close.shape[0]))
    k.indicator_rows_nb(close, plan.ind_kinds, plan.windows, out)
    return out


def run_fused(
    x: EngineInputs,
    name: str,
    params: Params,
    settings: EngineSettings,
    days: np.ndarray,
    block_start: np.ndarray,
    tracker: ProgressTracker,
    workers: int | None = None,
    *,
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
    setting_columns: Mapping[str, np.ndarray] | None = None,
) -> FusedOutput:
    """Simulate every combination of ``params`` (validated parameter columns of built-in
    ``name``), with indicator rows and the ATR of ATR stops in ``indicator_convention``
    (``talib`` is refused for :data:`PANDAS_ONLY`). ``setting_columns``: validated setting
    axes (:data:`~tradesweep.sweep.axes.SETTING_AXES`), one value per combination, laid over
    ``settings`` in the kernel."""
    plan = PLANNERS[name](params)
    if indicator_convention == "talib":
        plan = talib_rows(plan)
    n_comb = plan.rows.shape[0]
    n = x.close.shape[0]
    setting_columns = setting_columns or {}
    risk = risk_matrix(settings, setting_columns, n_comb)
    atr_axes = [j for j, axis in enumerate(SETTING_AXES) if axis in ATR_AXES]
    if settings.uses_atr or not np.isnan(risk[:, atr_axes]).all():
        atr = atr_values(x.high, x.low, x.close, settings.atr_period, indicator_convention)
    else:
        atr = np.full(n, np.nan)
    acc = np.empty((n_comb, a.N_ACC))
    block_stats = np.empty((3, block_start.shape[0] - 1, n_comb))
    order = np.lexsort((plan.rows[:, 1], plan.rows[:, 0])).astype(np.int64)
    p = kernel_params(settings)
    with _threads(workers) as threads:
        tracker.check()
        ind = indicator_cache(x.close, plan)
        size = max(threads, _FIRST_CHUNK_BAR_COMBINATIONS // n)
        start = 0
        while start < n_comb:
            tracker.check()
            chunk = order[start : start + size]
            t0 = time.perf_counter()
            k.sweep_nb(
                plan.kind, x.open, x.high, x.low, x.close, atr, days, ind, plan.rows,
                plan.fpar, risk, chunk, block_start, p, acc, block_stats,
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            start += chunk.shape[0]
            tracker.advance(chunk.shape[0])
            rate = chunk.shape[0] / max(seconds, 1e-6)
            size = int(min(max(threads, rate * TARGET_CHUNK_SECONDS), 4 * size))
    return FusedOutput(acc, block_stats)


def _sum(acc: np.ndarray, slot: int) -> np.ndarray:
    return acc[:, slot] + acc[:, slot + 1]


def _where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(mask, values, np.nan)


def metrics_from_acc(
    acc: np.ndarray,
    *,
    bars: int,
    cash: float,
    periods_per_year: float | None,
    risk_free_rate: float,
    elapsed_days: float,
) -> dict[str, np.ndarray]:
    """The combination-dependent metrics of ``compute_metrics`` from accumulator rows, one
    array per key, NaN where ``compute_metrics`` gives None (same formulas and null rules)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = _return_metrics(acc, bars, cash, periods_per_year, risk_free_rate)
        out.update(_drawdown_metrics(acc, out["annualized_return_pct"]))
        out.update(_trade_metrics(acc, bars, elapsed_days))
    return out


def _return_metrics(
    acc: np.ndarray, n: int, cash: float, ppy: float | None, rf: float
) -> dict[str, np.ndarray]:
    final = acc[:, a.A_FINAL_EQUITY].copy()
    m = final.shape[0]
    growth = final / cash
    if ppy is None or n < 1:
        cagr = np.full(m, np.nan)
    else:
        cagr = (np.power(growth, ppy / n) - 1.0) * 100.0
        cagr = np.where(growth <= 0, -100.0, np.where(np.isfinite(cagr), cagr, np.nan))
    nan = np.full(m, np.nan)
    vol, sharpe, sortino = nan, nan.copy(), nan.copy()
    if ppy is not None and n >= 2:
        usable = acc[:, a.A_RUINED] == 0.0
        std = np.sqrt(acc[:, a.A_M2] / (n - 1))
        mean_excess = _sum(acc, a.A_SUM_R) / n - per_bar_risk_free(rf, ppy)
        downside = np.sqrt(_sum(acc, a.A_SUM_DOWN2) / n)
        root = math.sqrt(ppy)
        vol = _where(usable, std * root * 100.0)
        sharpe = _where(usable & (std > ZERO_STD), mean_excess / std * root)
        sortino = _where(usable & (downside > ZERO_STD), mean_excess / downside * root)
    return {
        "final_equity": final,
        "total_return_pct": (final / cash - 1.0) * 100.0,
        "annualized_return_pct": cagr,
        "annualized_volatility_pct": vol,
        "sharpe_ratio": sharpe,
        "sortino_ratio": sortino,
    }


def _drawdown_metrics(acc: np.ndarray, cagr: np.ndarray) -> dict[str, np.ndarray]:
    episodes = acc[:, a.A_N_EPISODES]
    max_dd = np.minimum(acc[:, a.A_MIN_TROUGH], 0.0) * 100.0
    return {
        # calmar_ratio(): null without a drawdown or without an annualised return
        "calmar_ratio": _where((max_dd != 0) & ~np.isnan(cagr), cagr / np.abs(max_dd)),
        "max_drawdown_pct": max_dd,
        "max_drawdown_duration_days": acc[:, a.A_MAX_DD_DAYS].copy(),
        "avg_drawdown_pct": np.where(
            episodes > 0, _sum(acc, a.A_SUM_TROUGH) / episodes * 100.0, 0.0
        ),
    }


def _trade_metrics(acc: np.ndarray, n: int, elapsed_days: float) -> dict[str, np.ndarray]:
    trades = acc[:, a.A_N_TRADES]
    wins = acc[:, a.A_N_WINS]
    losses = acc[:, a.A_N_LOSSES]
    any_ = trades > 0
    gross_loss = -_sum(acc, a.A_SUM_LOSS)
    good_growth = any_ & (acc[:, a.A_BAD_GROWTH] == 0.0)
    per_month = trades / (elapsed_days / DAYS_PER_MONTH) if elapsed_days > 0 else np.nan
    return {
        "total_trades": trades.copy(),
        "win_rate_pct": _where(any_, wins / trades * 100.0),
        "profit_factor": _where(any_ & (gross_loss > 0), _sum(acc, a.A_SUM_WIN) / gross_loss),
        "expectancy_pct": _where(any_, _sum(acc, a.A_SUM_PNL_PCT) / trades),
        "avg_trade_pct": _where(
            good_growth, np.expm1(_sum(acc, a.A_SUM_LOG_GROWTH) / trades) * 100.0
        ),
        "best_trade_pct": _where(any_, acc[:, a.A_BEST_PCT]),
        "worst_trade_pct": _where(any_, acc[:, a.A_WORST_PCT]),
        "avg_win": _where(wins > 0, _sum(acc, a.A_SUM_WIN) / wins),
        "avg_loss": _where(losses > 0, _sum(acc, a.A_SUM_LOSS) / losses),
        "largest_win": _where(wins > 0, acc[:, a.A_MAX_WIN]),
        "largest_loss": _where(losses > 0, acc[:, a.A_MIN_LOSS]),
        "avg_trade_duration_days": _where(any_, _sum(acc, a.A_SUM_HELD_DAYS) / trades),
        "trades_per_month": np.broadcast_to(per_month, trades.shape).astype(np.float64),
        "exposure_pct": acc[:, a.A_EXPOSED_BARS] / n * 100.0,
        "total_fees": acc[:, a.A_TOTAL_FEES].copy(),
        "stop_and_target_same_bar": acc[:, a.A_SAME_BAR].copy(),
    }
