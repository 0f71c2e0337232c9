"""RSI and ATR against textbook plain-Python loops; Bollinger against pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import sliding_window_view

from tradesweep.indicators.nb import atr_nb, bollinger_nb, rsi_nb

RTOL = 1e-9


@st.composite
def walks(draw: st.DrawFn, max_size: int = 120) -> np.ndarray:
    """A random walk around 100 with flat stretches."""
    step = st.one_of(st.just(0.0), st.floats(-5, 5, allow_nan=False))
    steps = draw(hnp.arrays(np.float64, st.integers(0, max_size), elements=step))
    return 100.0 + np.cumsum(steps)


@st.composite
def with_nans(draw: st.DrawFn, x: np.ndarray) -> np.ndarray:
    """``x`` with some leading NaNs and, sometimes, one NaN later on."""
    x = x.copy()
    if x.size:
        x[: draw(st.integers(0, min(5, x.size)))] = np.nan
        if draw(st.booleans()):
            x[draw(st.integers(0, x.size - 1))] = np.nan
    return x


def assert_matches(actual: np.ndarray, expected: np.ndarray, atol: float = 0.0) -> None:
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions")
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol)


def first_valid(*columns: list[float]) -> int | None:
    return next(
        (i for i, row in enumerate(zip(*columns, strict=True)) if not any(map(math.isnan, row))),
        None,
    )


def rsi_oracle(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's RSI as the textbook writes it, from the first non-NaN close to the next NaN."""
    c = close.tolist()
    out = [math.nan] * len(c)
    f = first_valid(c)
    if f is None:
        return np.array(out)
    stop = next((i for i in range(f, len(c)) if math.isnan(c[i])), len(c))
    gains = [max(c[i] - c[i - 1], 0.0) for i in range(f + 1, stop)]
    losses = [max(c[i - 1] - c[i], 0.0) for i in range(f + 1, stop)]
    if len(gains) < period:
        return np.array(out)
    avg_gain = sum(gains[:period]) / period
    avg_loss = sum(losses[:period]) / period
    for k in range(period - 1, len(gains)):
        if k >= period:
            avg_gain = (avg_gain * (period - 1) + gains[k]) / period
            avg_loss = (avg_loss * (period - 1) + losses[k]) / period
        total = avg_gain + avg_loss
        out[f + 1 + k] = 50.0 if total == 0 else 100.0 * avg_gain / total
    return np.array(out)


def atr_oracle(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder's ATR as the textbook writes it, from the first complete bar to the next NaN."""
    h, lo, c = high.tolist(), low.tolist(), close.tolist()
    out = [math.nan] * len(c)
    f = first_valid(h, lo, c)
    if f is None:
        return np.array(out)
    bad = (i for i in range(f, len(c)) if any(map(math.isnan, (h[i], lo[i], c[i]))))
    stop = next(bad, len(c))
    tr = [h[f] - lo[f]] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(f + 1, stop)
    ]
    if len(tr) < period:
        return np.array(out)
    value = sum(tr[:period]) / period
    out[f + period - 1] = value
    for k in range(period, len(tr)):
        value = (value * (period - 1) + tr[k]) / period
        out[f + k] = value
    return np.array(out)


def bars_from(close: np.ndarray, spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """High and low around ``close``, ``spread`` apart, with the close inside."""
    return close + 0.6 * spread, close - 0.4 * spread


def bollinger_oracle(x: np.ndarray, window: int, k: float) -> list[np.ndarray]:
    """pandas' rolling mean ± k × numpy's two-pass sample std of each window.

    Not pandas' rolling std: its online update leaves residues of ~sqrt(eps) × price on flat
    windows (EURUSD has 2-bar windows where pandas gives 2e-8 instead of 0).
    """
    middle = pd.Series(x).rolling(window).mean().to_numpy(copy=True)
    sd = np.full(x.size, np.nan)
    if 1 < window <= x.size:
        sd[window - 1 :] = np.std(sliding_window_view(x, window), axis=1, ddof=1)
    return [middle, middle + k * sd, middle - k * sd]


# --- RSI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("period", [1, 2, 14, 100])
def test_rsi_matches_textbook_on_samples(sample_bars: pd.DataFrame, period: int) -> None:
    close = sample_bars["close"].to_numpy()
    assert_matches(rsi_nb(close, period), rsi_oracle(close, period), atol=RTOL * 100)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), period=st.integers(1, 50))
def test_rsi_matches_textbook(data: st.DataObject, period: int) -> None:
    x = data.draw(walks().flatmap(with_nans))
    assert_matches(rsi_nb(x, period), rsi_oracle(x, period), atol=RTOL * 100)


def test_rsi_edge_values() -> None:
    assert rsi_nb(np.array([1.0, 2.0, 3.0]), 2)[2] == 100.0
    assert rsi_nb(np.array([3.0, 2.0, 1.0]), 2)[2] == 0.0
    assert rsi_nb(np.array([2.0, 2.0, 2.0]), 2)[2] == 50.0
    out = rsi_nb(np.array([np.nan, 1.0, 2.0, 1.0, np.nan, 5.0]), 2)
    np.testing.assert_array_equal(out, [np.nan, np.nan, np.nan, 50.0, np.nan, np.nan])


# --- ATR ----------------------------------------------------------------------------------


@pytest.mark.parametrize("period", [1, 2, 14, 100])
def test_atr_matches_textbook_on_samples(sample_bars: pd.DataFrame, period: int) -> None:
    h, lo, c = (sample_bars[col].to_numpy() for col in ("high", "low", "close"))
    assert_matches(atr_nb(h, lo, c, period), atr_oracle(h, lo, c, period))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), period=st.integers(1, 50))
def test_atr_matches_textbook(data: st.DataObject, period: int) -> None:
    close = data.draw(walks().flatmap(with_nans))
    spread = data.draw(hnp.arrays(np.float64, close.size, elements=st.floats(0, 3)))
    high, low = bars_from(close, spread)
    assert_matches(atr_nb(high, low, close, period), atr_oracle(high, low, close, period))


def test_atr_first_bar_is_high_minus_low() -> None:
    out = atr_nb(np.array([11.0, 13.0]), np.array([9.0, 12.0]), np.array([10.0, 12.5]), 1)
    np.testing.assert_array_equal(out, [2.0, 3.0])


# --- Bollinger ----------------------------------------------------------------------------


@pytest.mark.parametrize(("window", "k"), [(1, 2.0), (2, 2.0), (20, 2.0), (50, 0.5)])
def test_bollinger_matches_pandas_on_samples(
    sample_bars: pd.DataFrame, window: int, k: float
) -> None:
    close = sample_bars["close"].to_numpy()
    for got, want in zip(
        bollinger_nb(close, window, k), bollinger_oracle(close, window, k), strict=True
    ):
        assert_matches(got, want)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), window=st.integers(1, 50), k=st.floats(0, 4))
def test_bollinger_matches_pandas(data: st.DataObject, window: int, k: float) -> None:
    x = data.draw(walks().flatmap(with_nans))
    for got, want in zip(bollinger_nb(x, window, k), bollinger_oracle(x, window, k), strict=True):
        assert_matches(got, want)


def test_bollinger_flat_window_has_zero_width() -> None:
    middle, upper, lower = bollinger_nb(np.array([1.0, 0.1, 0.1, 0.1]), 3, 2.0)
    assert upper[3] == lower[3] == middle[3]
    assert np.isnan(upper[:2]).all()
