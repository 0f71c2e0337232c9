"""Array/pandas wrappers around the kernels in :mod:`tradesweep.indicators.nb`.

Each wrapper validates its parameters (raising :class:`~tradesweep.errors.ParameterError`),
hands float64 arrays to the kernel, and gives pandas back for pandas in (same index) and
numpy back for numpy in. Warm-up, seeding and NaN rules are documented on the kernels.

EMA, MACD, ATR and Bollinger take ``convention``: ``"pandas"`` (the default) or ``"talib"``
(TA-Lib's seeding and ddof; see :mod:`tradesweep.indicators.convention`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import TypeAlias, TypeVar, overload

import numpy as np
import pandas as pd

from tradesweep.errors import DataError, ParameterError
from tradesweep.indicators import nb
from tradesweep.indicators.convention import (
    DEFAULT_CONVENTION,
    IndicatorConvention,
    check_convention,
)

SeriesOrArray = TypeVar("SeriesOrArray", pd.Series, np.ndarray)
# pandas ships no type stubs, so mypy sees its classes as Any: the aliases are explicit, and
# each overload names the numpy signature first (an Any-typed first signature would match all).
Bars: TypeAlias = "pd.DataFrame | Mapping[str, np.ndarray]"
Triple: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray]

MACD_COLUMNS = ("line", "signal", "hist")
BOLLINGER_COLUMNS = ("middle", "upper", "lower")
PROFILE_COLUMNS = ("poc", "va_low", "va_high")


# --- validation ---------------------------------------------------------------------------


def check_window(name: str, value: object) -> int:
    """``value`` as an int >= 1, else :class:`ParameterError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterError(
            f"{name} must be an integer, got {value!r}",
            fix=f"pass a whole number of bars, e.g. {name}=20",
            parameter=name,
        )
    if value < 1:
        raise ParameterError(
            f"{name} must be at least 1, got {value}",
            fix=f"pass {name} >= 1",
            parameter=name,
        )
    return int(value)


def check_real(name: str, value: object, *, low: float, high: float, low_open: bool) -> float:
    """``value`` as a finite float in ``(low, high]`` (``low_open``) or ``[low, high]``."""
    bracket = "(" if low_open else "["
    span = f"{bracket}{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(
            f"{name} must be a number, got {value!r}", fix=f"pass {name} in {span}", parameter=name
        )
    v = float(value)
    below = v <= low if low_open else v < low
    if not math.isfinite(v) or below or v > high:
        raise ParameterError(
            f"{name} must be finite and in {span}, got {value!r}",
            fix=f"pass {name} in {span}",
            parameter=name,
        )
    return v


def as_float_array(x: object, name: str = "x") -> np.ndarray:
    """A C-contiguous, writable float64 1-D copy-or-view of ``x`` (one numba specialisation)."""
    arr = np.require(np.asarray(x, dtype=np.float64), requirements=["C", "W"])
    if arr.ndim != 1:
        raise DataError(
            f"{name} must be one-dimensional, got shape {arr.shape}",
            fix="pass a Series or a 1-D array",
            column=name,
        )
    return arr


def bar_columns(bars: Bars, *names: str) -> list[np.ndarray]:
    """The named columns of ``bars`` as float64 arrays of one length."""
    missing = [c for c in names if c not in bars]
    if missing:
        raise DataError(
            f"bars lack column(s) {', '.join(missing)}",
            fix="pass OHLCV bars with columns open, high, low, close, volume",
            column=missing[0],
        )
    cols = [as_float_array(bars[c], c) for c in names]
    if len({len(c) for c in cols}) > 1:
        raise DataError("bar columns differ in length", fix="pass columns of one length")
    return cols


def utc_day_ids(index: pd.DatetimeIndex) -> np.ndarray:
    """Int64 UTC calendar-day number of each timestamp (naive timestamps are read as UTC)."""
    if index.tz is not None:
        index = index.tz_convert("UTC")
    return np.ascontiguousarray(index.as_unit("s").asi8 // 86_400, dtype=np.int64)


def _index_of(x: object) -> pd.Index | None:
    return x.index if isinstance(x, pd.Series | pd.DataFrame) else None


def _frame(
    index: pd.Index | None, columns: tuple[str, ...], arrays: Triple
) -> pd.DataFrame | Triple:
    if index is None:
        return arrays
    return pd.DataFrame(dict(zip(columns, arrays, strict=True)), index=index)


def _series(x: SeriesOrArray, values: np.ndarray) -> SeriesOrArray:
    if isinstance(x, pd.Series):
        return pd.Series(values, index=x.index, name=x.name)
    return values


# --- single-series indicators -------------------------------------------------------------


def sma(x: SeriesOrArray, window: int) -> SeriesOrArray:
    """Simple moving average; :func:`~tradesweep.indicators.nb.sma_nb`."""
    return _series(x, nb.sma_nb(as_float_array(x), check_window("window", window)))


def ema_values(x: np.ndarray, span: int, convention: str = DEFAULT_CONVENTION) -> np.ndarray:
    """The EMA of a float64 array with its warm-up masked: NaN before the ``span``-th value
    from the first non-NaN one, under either convention (TA-Lib's NaN positions)."""
    if convention == "talib":
        return nb.ema_talib_nb(x, span)
    out = nb.ema_nb(x, span)
    out[: nb.first_valid(x) + span - 1] = np.nan
    return out


def ema(
    x: SeriesOrArray, span: int, *, convention: IndicatorConvention = DEFAULT_CONVENTION
) -> SeriesOrArray:
    """Exponential moving average, NaN for its first ``span - 1`` values (counted from the
    first non-NaN input) like the other indicators' warm-up.

    ``convention="pandas"``: :func:`~tradesweep.indicators.nb.ema_nb` (``ewm(span,
    adjust=False)``, seeded with the first value) masked; ``"talib"``:
    :func:`~tradesweep.indicators.nb.ema_talib_nb` (seeded with the mean of the first ``span``
    values). The unmasked pandas EMA is ``nb.ema_nb``."""
    span = check_window("span", span)
    return _series(x, ema_values(as_float_array(x), span, check_convention(convention)))


def rsi(x: SeriesOrArray, period: int = 14) -> SeriesOrArray:
    """Wilder's RSI; :func:`~tradesweep.indicators.nb.rsi_nb`."""
    return _series(x, nb.rsi_nb(as_float_array(x), check_window("period", period)))


@overload
def macd(
    x: np.ndarray,
    fast: int = ...,
    slow: int = ...,
    signal: int = ...,
    *,
    convention: IndicatorConvention = ...,
) -> Triple: ...
@overload
def macd(
    x: pd.Series,
    fast: int = ...,
    slow: int = ...,
    signal: int = ...,
    *,
    convention: IndicatorConvention = ...,
) -> pd.DataFrame: ...
def macd(
    x: pd.Series | np.ndarray,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    *,
    convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> pd.DataFrame | Triple:
    """MACD columns ``line, signal, hist``; :func:`~tradesweep.indicators.nb.macd_nb`, or
    :func:`~tradesweep.indicators.nb.macd_talib_nb` with ``convention="talib"``."""
    fast = check_window("fast", fast)
    slow = check_window("slow", slow)
    signal = check_window("signal", signal)
    if fast >= slow:
        raise ParameterError(
            f"fast ({fast}) must be shorter than slow ({slow})",
            fix="pass fast < slow, e.g. fast=12, slow=26",
            parameter="fast",
        )
    kernel = nb.macd_talib_nb if check_convention(convention) == "talib" else nb.macd_nb
    out = kernel(as_float_array(x), fast, slow, signal)
    return _frame(_index_of(x), MACD_COLUMNS, out)


@overload
def bollinger(
    x: np.ndarray, window: int = ..., num_std: float = ..., *, convention: IndicatorConvention = ...
) -> Triple: ...
@overload
def bollinger(
    x: pd.Series, window: int = ..., num_std: float = ..., *, convention: IndicatorConvention = ...
) -> pd.DataFrame: ...
def bollinger(
    x: pd.Series | np.ndarray,
    window: int = 20,
    num_std: float = 2.0,
    *,
    convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> pd.DataFrame | Triple:
    """Bollinger columns ``middle, upper, lower``; see :func:`.nb.bollinger_nb` (sample std)
    or, with ``convention="talib"``, :func:`.nb.bollinger_talib_nb` (population std)."""
    window = check_window("window", window)
    num_std = check_real("num_std", num_std, low=0.0, high=math.inf, low_open=False)
    kernel = nb.bollinger_talib_nb if check_convention(convention) == "talib" else nb.bollinger_nb
    out = kernel(as_float_array(x), window, num_std)
    return _frame(_index_of(x), BOLLINGER_COLUMNS, out)


# --- bar indicators -----------------------------------------------------------------------


def _bars_result(bars: Bars, values: np.ndarray, name: str) -> pd.Series | np.ndarray:
    if isinstance(bars, pd.DataFrame):
        return pd.Series(values, index=bars.index, name=name)
    return values


def atr_values(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: int,
    convention: str = DEFAULT_CONVENTION,
) -> np.ndarray:
    """The ATR of float64 columns in ``convention`` (``atr_nb`` or ``atr_talib_nb``)."""
    kernel = nb.atr_talib_nb if convention == "talib" else nb.atr_nb
    return kernel(high, low, close, period)


def atr(
    bars: Bars, period: int = 14, *, convention: IndicatorConvention = DEFAULT_CONVENTION
) -> pd.Series | np.ndarray:
    """Wilder's average true range; :func:`~tradesweep.indicators.nb.atr_nb`, or
    :func:`~tradesweep.indicators.nb.atr_talib_nb` with ``convention="talib"``."""
    period = check_window("period", period)
    convention = check_convention(convention)
    high, low, close = bar_columns(bars, "high", "low", "close")
    return _bars_result(bars, atr_values(high, low, close, period, convention), "atr")


def vwap(
    bars: Bars, window: int | None = None, *, session_id: np.ndarray | None = None
) -> pd.Series | np.ndarray:
    """VWAP: per UTC calendar day when ``window`` is None, else over the last ``window`` bars.

    Sessions come from ``session_id`` (int64, one per bar) when given, else from the UTC day of
    each timestamp of a DataFrame's DatetimeIndex. See
    :func:`~tradesweep.indicators.nb.vwap_session_nb` and ``vwap_rolling_nb``.
    """
    high, low, close, volume = bar_columns(bars, "high", "low", "close", "volume")
    if window is not None:
        values = nb.vwap_rolling_nb(high, low, close, volume, check_window("window", window))
        return _bars_result(bars, values, "vwap")
    if session_id is None:
        index = _index_of(bars)
        if not isinstance(index, pd.DatetimeIndex):
            raise ParameterError(
                "session VWAP needs timestamps to find the sessions",
                fix="pass bars with a UTC DatetimeIndex, session_id=..., or window=...",
                parameter="window",
            )
        session_id = utc_day_ids(index)
    sid = np.ascontiguousarray(session_id, dtype=np.int64)
    if sid.shape != close.shape:
        raise ParameterError(
            f"session_id has shape {sid.shape}, bars have {close.shape[0]} rows",
            fix="pass one session id per bar",
            parameter="session_id",
        )
    return _bars_result(bars, nb.vwap_session_nb(high, low, close, volume, sid), "vwap")


@overload
def volume_profile(
    bars: Mapping[str, np.ndarray], lookback: int, bins: int = ..., value_area_pct: float = ...
) -> Triple: ...
@overload
def volume_profile(
    bars: pd.DataFrame, lookback: int, bins: int = ..., value_area_pct: float = ...
) -> pd.DataFrame: ...
def volume_profile(
    bars: Bars, lookback: int, bins: int = 24, value_area_pct: float = 0.7
) -> pd.DataFrame | Triple:
    """Rolling volume profile columns ``poc, va_low, va_high``;
    :func:`~tradesweep.indicators.nb.volume_profile_nb`."""
    lookback = check_window("lookback", lookback)
    bins = check_window("bins", bins)
    pct = check_real("value_area_pct", value_area_pct, low=0.0, high=1.0, low_open=True)
    high, low, close, volume = bar_columns(bars, "high", "low", "close", "volume")
    out = nb.volume_profile_nb(high, low, close, volume, lookback, bins, pct)
    return _frame(_index_of(bars), PROFILE_COLUMNS, out)
