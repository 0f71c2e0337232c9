"""``run_backtest``: the pandas-facing wrapper around :func:`~tradesweep.engine.nb.simulate_nb`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesweep.engine.enums import Direction, FillMode, SizeType
from tradesweep.engine.inputs import atr_input, engine_inputs
from tradesweep.engine.nb import KernelParams, simulate_nb
from tradesweep.engine.result import BacktestResult
from tradesweep.engine.settings import EngineSettings
from tradesweep.indicators.api import atr_values
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.strategies.base import Signals


def _nan_if_none(value: float | None) -> float:
    return np.nan if value is None else float(value)


def kernel_params(settings: EngineSettings) -> KernelParams:
    """The settings as the kernel's scalar tuple (enums as ints, None as NaN)."""
    s = settings
    return KernelParams(
        cash=s.cash,
        fees=s.fees,
        fixed_fee=s.fixed_fee,
        slippage=s.slippage,
        fill=getattr(FillMode, s.fill),
        direction=getattr(Direction, s.direction),
        size=s.size,
        size_type=getattr(SizeType, s.size_type),
        fractional=s.fractional,
        stop_loss=_nan_if_none(s.stop_loss),
        stop_loss_atr=_nan_if_none(s.stop_loss_atr),
        take_profit=_nan_if_none(s.take_profit),
        take_profit_atr=_nan_if_none(s.take_profit_atr),
        trailing_stop=_nan_if_none(s.trailing_stop),
        trailing_stop_atr=_nan_if_none(s.trailing_stop_atr),
        max_drawdown=_nan_if_none(s.max_drawdown),
        close_at_end=s.close_at_end,
    )


def run_backtest(
    bars: pd.DataFrame,
    signals: Signals,
    settings: EngineSettings | None = None,
    *,
    atr: np.ndarray | None = None,
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> BacktestResult:
    """Simulate ``signals`` (computed on each bar's close) over ``bars``.

    ``bars`` is the OHLCV contract frame (UTC DatetimeIndex, float64 open/high/low/close).
    ``atr`` is only read by ATR-multiple stops; when they are set and ``atr`` is None it is
    computed with Wilder's ATR over ``settings.atr_period`` bars, in ``indicator_convention``
    (``talib``: TA-Lib's ATR, one bar later). Conventions: docs/engine.md.
    """
    settings = settings or EngineSettings()
    x = engine_inputs(bars, signals)
    n = len(x.index)
    if atr is not None:
        stop_atr = atr_input(atr, n)
    elif settings.uses_atr:
        stop_atr = atr_values(x.high, x.low, x.close, settings.atr_period, indicator_convention)
    else:
        stop_atr = np.full(n, np.nan)
    equity, position, trades, same_bar, total_fees = simulate_nb(
        x.open,
        x.high,
        x.low,
        x.close,
        x.long_entry,
        x.long_exit,
        x.short_entry,
        x.short_exit,
        stop_atr,
        kernel_params(settings),
    )
    return BacktestResult(
        index=x.index,
        equity=equity,
        position=position,
        trades=trades,
        stop_and_target_same_bar=int(same_bar),
        total_fees=float(total_fees),
        settings=settings,
    )
