"""Checked array inputs for the simulators: bars, signals and ATR as contiguous arrays."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from tradesweep.errors import DataError
from tradesweep.strategies.base import Signals

PRICE_COLUMNS = ("open", "high", "low", "close")


class EngineInputs(NamedTuple):
    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    long_entry: np.ndarray
    long_exit: np.ndarray
    short_entry: np.ndarray
    short_exit: np.ndarray


def engine_inputs(bars: pd.DataFrame, signals: Signals) -> EngineInputs:
    """Check ``bars`` (the OHLCV contract frame) and ``signals`` against each other and
    return them as C-contiguous float64 / bool arrays."""
    if not isinstance(bars, pd.DataFrame):
        raise DataError(
            f"bars must be a pandas DataFrame, got {type(bars).__name__}",
            fix="load bars with tradesweep.data (UTC DatetimeIndex, open/high/low/close)",
        )
    missing = [c for c in PRICE_COLUMNS if c not in bars.columns]
    if missing:
        raise DataError(
            f"bars lack the column(s) {', '.join(missing)}",
            fix="give lower-case open, high, low, close columns (tradesweep.data normalises)",
            column=missing[0],
        )
    if len(bars) == 0:
        raise DataError("bars are empty", fix="give at least one bar")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise DataError(
            "bars need a DatetimeIndex",
            fix="index the bars by their UTC timestamps (tradesweep.data does this)",
        )
    prices = []
    for name in PRICE_COLUMNS:
        values = np.ascontiguousarray(bars[name].to_numpy(dtype=np.float64))
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            raise DataError(
                f"column '{name}' has a missing or infinite value at row {row}",
                fix="drop or fill incomplete bars before backtesting",
                column=name,
                row=row,
            )
        prices.append(values)
    arrays = [_signal_array(signals, name, len(bars)) for name in Signals._fields]
    return EngineInputs(bars.index, *prices, *arrays)


def _signal_array(signals: Signals, name: str, n: int) -> np.ndarray:
    values = np.asarray(getattr(signals, name))
    if values.dtype != np.bool_:
        raise DataError(
            f"signal '{name}' has dtype {values.dtype}, not bool",
            fix="give boolean arrays (e.g. series.fillna(False).astype(bool))",
            field=name,
        )
    if values.shape != (n,):
        raise DataError(
            f"signal '{name}' has shape {values.shape}, the bars have {n} rows",
            fix="compute the signals on the same bars you backtest",
            field=name,
        )
    return np.ascontiguousarray(values)


def atr_input(atr: np.ndarray | None, n: int, name: str = "atr") -> np.ndarray:
    """A caller's ATR array, checked to be one float per bar."""
    values = np.ascontiguousarray(np.asarray(atr, dtype=np.float64))
    if values.shape != (n,):
        raise DataError(
            f"{name} has shape {values.shape}, the bars have {n} rows",
            fix="compute the ATR on the same bars you backtest, or pass atr=None",
            field=name,
        )
    return values
