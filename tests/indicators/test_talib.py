"""The ``talib`` convention against TA-Lib itself (a dev-only test oracle, never imported from
``src/``): EMA, MACD, ATR and Bollinger equal ``talib.*`` to 1e-10 from TA-Lib's first value,
with TA-Lib's NaN positions, on random walks and on the bundled GOOGL and EURUSD samples.
SMA and RSI, which have one definition, equal TA-Lib as they are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tradesweep.indicators as ti
from tradesweep.errors import ParameterError
from tradesweep.indicators import nb
from tradesweep.indicators.streaming import (
    StreamingATR,
    StreamingBollinger,
    StreamingEMA,
    StreamingMACD,
)

talib = pytest.importorskip("talib")

TOL = 1e-10


def same_nans(ours: np.ndarray, theirs: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg="NaN positions")


def assert_rel(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Same NaN positions, each value within 1e-10 relative."""
    same_nans(ours, theirs)
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=0.0)


def assert_macd(ours: tuple, theirs: tuple, close: np.ndarray) -> None:
    """Same NaN positions, within 1e-10 of the price level (MACD values cross zero)."""
    valid = close[~np.isnan(close)]
    scale = max(1.0, float(np.max(np.abs(valid)))) if valid.size else 1.0
    for got, want in zip(ours, theirs, strict=True):
        same_nans(got, want)
        np.testing.assert_allclose(got, want, rtol=0.0, atol=TOL * scale)


@st.composite
def walks(draw: st.DrawFn, min_size: int = 0, max_size: int = 150) -> np.ndarray:
    """A random walk of positive prices with flat stretches, sometimes with leading NaNs."""
    step = st.one_of(st.just(0.0), st.floats(-0.04, 0.04, allow_nan=False))
    steps = draw(hnp.arrays(np.float64, st.integers(min_size, max_size), elements=step))
    level = draw(st.sampled_from([1.1, 100.0, 3000.0]))
    x = level * np.exp(np.cumsum(steps))
    lead = draw(st.integers(0, 3))
    x[: min(lead, x.size)] = np.nan
    return x


def ohlc(close: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spread = np.random.default_rng(seed).uniform(0.0, 0.02, close.size) * close
    return close + spread, close - spread[::-1], close


# --- the bundled samples ------------------------------------------------------------------


@pytest.mark.parametrize("period", [2, 5, 12, 26, 200])
def test_ema_equals_talib_on_samples(sample_bars: pd.DataFrame, period: int) -> None:
    close = sample_bars["close"].to_numpy()
    assert_rel(nb.ema_talib_nb(close, period), talib.EMA(close, period))
    assert_rel(ti.ema(close, period, convention="talib"), talib.EMA(close, period))


@pytest.mark.parametrize(
    ("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 16), (5, 35, 5), (2, 3, 1)]
)
def test_macd_equals_talib_on_samples(
    sample_bars: pd.DataFrame, fast: int, slow: int, signal: int
) -> None:
    close = sample_bars["close"].to_numpy()
    theirs = talib.MACD(close, fast, slow, signal)
    assert_macd(nb.macd_talib_nb(close, fast, slow, signal), theirs, close)
    assert_macd(ti.macd(close, fast, slow, signal, convention="talib"), theirs, close)


@pytest.mark.parametrize("period", [1, 2, 14, 50, 200])
def test_atr_equals_talib_on_samples(sample_bars: pd.DataFrame, period: int) -> None:
    h, lo, c = (sample_bars[k].to_numpy() for k in ("high", "low", "close"))
    theirs = talib.ATR(h, lo, c, period)
    assert_rel(nb.atr_talib_nb(h, lo, c, period), theirs)
    assert_rel(ti.atr(sample_bars, period, convention="talib").to_numpy(), theirs)


@pytest.mark.parametrize(("window", "num_std"), [(2, 2.0), (20, 2.0), (20, 1.0), (50, 2.5)])
def test_bollinger_equals_talib_on_samples(
    sample_bars: pd.DataFrame, window: int, num_std: float
) -> None:
    close = sample_bars["close"].to_numpy()
    upper, middle, lower = talib.BBANDS(close, window, num_std, num_std)
    bands = ti.bollinger(close, window, num_std, convention="talib")
    for got, want in zip(bands, (middle, upper, lower), strict=True):
        assert_rel(got, want)


@pytest.mark.parametrize("period", [2, 14, 50])
def test_sma_and_rsi_equal_talib_in_either_convention(
    sample_bars: pd.DataFrame, period: int
) -> None:
    close = sample_bars["close"].to_numpy()
    assert_rel(ti.sma(close, period), talib.SMA(close, period))
    assert_rel(ti.rsi(close, period), talib.RSI(close, period))


# --- random walks -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(x=walks(), period=st.integers(1, 40))
def test_ema_equals_talib(x: np.ndarray, period: int) -> None:
    assert_rel(nb.ema_talib_nb(x, period), talib.EMA(x, period))


@settings(max_examples=150, deadline=None)
@given(x=walks(), slow=st.integers(3, 40), fast=st.integers(2, 39), signal=st.integers(1, 30))
def test_macd_equals_talib(x: np.ndarray, slow: int, fast: int, signal: int) -> None:
    fast = min(fast, slow - 1)
    assert_macd(nb.macd_talib_nb(x, fast, slow, signal), talib.MACD(x, fast, slow, signal), x)


@settings(max_examples=150, deadline=None)
@given(x=walks(), period=st.integers(1, 40), seed=st.integers(0, 1000))
def test_atr_equals_talib(x: np.ndarray, period: int, seed: int) -> None:
    h, lo, c = ohlc(x, seed)
    assert_rel(nb.atr_talib_nb(h, lo, c, period), talib.ATR(h, lo, c, period))


@settings(max_examples=150, deadline=None)
@given(x=walks(), window=st.integers(2, 40), num_std=st.sampled_from([1.0, 2.0, 2.5]))
def test_bollinger_equals_talib(x: np.ndarray, window: int, num_std: float) -> None:
    upper, middle, lower = talib.BBANDS(x, window, num_std, num_std)
    bands = nb.bollinger_talib_nb(x, window, num_std)
    for got, want in zip(bands, (middle, upper, lower), strict=True):
        assert_rel(got, want)


def test_a_nan_after_the_start_propagates_as_in_talib() -> None:
    x = 100.0 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.01, 200)))
    x[:2] = np.nan
    x[120] = np.nan
    h, lo, c = ohlc(x, 7)
    assert_rel(nb.ema_talib_nb(x, 10), talib.EMA(x, 10))
    assert_rel(nb.atr_talib_nb(h, lo, c, 14), talib.ATR(h, lo, c, 14))
    assert_macd(nb.macd_talib_nb(x, 12, 26, 9), talib.MACD(x, 12, 26, 9), x)


# --- streaming twins ----------------------------------------------------------------------


def _run(obj, *columns: np.ndarray) -> np.ndarray:
    return np.array([obj.update(*(c[i] for c in columns)) for i in range(columns[0].size)])


@settings(max_examples=60, deadline=None)
@given(x=walks(min_size=1), period=st.integers(1, 30), seed=st.integers(0, 1000))
def test_streaming_talib_twins_are_bit_identical(x: np.ndarray, period: int, seed: int) -> None:
    h, lo, c = ohlc(x, seed)
    ema = _run(StreamingEMA(period, convention="talib"), x)
    np.testing.assert_array_equal(ema, nb.ema_talib_nb(x, period))
    atr = _run(StreamingATR(period, convention="talib"), h, lo, c)
    np.testing.assert_array_equal(atr, nb.atr_talib_nb(h, lo, c, period))
    bands = _run(StreamingBollinger(period, 2.0, convention="talib"), x)
    np.testing.assert_array_equal(bands, np.column_stack(nb.bollinger_talib_nb(x, period, 2.0)))
    fast, slow = max(1, period // 2), period + 1
    macd = _run(StreamingMACD(fast, slow, 3, convention="talib"), x)
    np.testing.assert_array_equal(macd, np.column_stack(nb.macd_talib_nb(x, fast, slow, 3)))


# --- the pandas convention's warm-up, and bad names -----------------------------------------


def test_api_ema_masks_its_warm_up_like_talib() -> None:
    x = np.r_[np.nan, 100.0 + np.arange(30.0)]
    out = ti.ema(x, 10)
    same_nans(out, talib.EMA(x, 10))
    np.testing.assert_array_equal(out[10:], nb.ema_nb(x, 10)[10:])
    series = ti.ema(pd.Series(x), 10)
    assert isinstance(series, pd.Series) and series.isna().sum() == 10


def test_unknown_convention_is_refused_with_a_hint() -> None:
    with pytest.raises(ParameterError, match="talib") as info:
        ti.ema(np.arange(5.0), 2, convention="ta-lib")  # type: ignore[arg-type]
    assert "did you mean 'talib'" in (info.value.fix or "")
