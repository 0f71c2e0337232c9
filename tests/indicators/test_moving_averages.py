"""SMA, EMA and MACD kernels against pandas, on the bundled data and on random walks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tradesweep.indicators.nb import ema_nb, macd_nb, sma_nb

RTOL = 1e-9


@st.composite
def walks(draw: st.DrawFn, max_size: int = 120) -> np.ndarray:
    """A random walk around 100 with flat stretches and, sometimes, NaNs (leading or inside)."""
    step = st.one_of(st.just(0.0), st.floats(-5, 5, allow_nan=False))
    steps = draw(hnp.arrays(np.float64, st.integers(0, max_size), elements=step))
    x = 100.0 + np.cumsum(steps)
    if x.size and draw(st.booleans()):
        x[draw(hnp.arrays(np.bool_, x.size))] = np.nan
    return x


def pandas_span3_quirk(x: np.ndarray, *spans: int) -> bool:
    """pandas 3.x weighs a value after an inner NaN gap differently when ``span == 3``."""
    valid = np.flatnonzero(~np.isnan(x))
    return 3 in spans and valid.size > 0 and bool(np.isnan(x[valid[0] :]).any())


def assert_matches(actual: np.ndarray, expected: np.ndarray, atol: float = 0.0) -> None:
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions")
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol)


def macd_oracle(x: np.ndarray, fast: int, slow: int, signal: int) -> list[np.ndarray]:
    s = pd.Series(x)
    line = s.ewm(span=fast, adjust=False).mean() - s.ewm(span=slow, adjust=False).mean()
    sig = line.ewm(span=signal, adjust=False).mean()
    out = [part.to_numpy(copy=True) for part in (line, sig, line - sig)]
    warm = max(fast, slow) - 1
    out[0][:warm] = np.nan
    out[1][: warm + signal - 1] = np.nan
    out[2][: warm + signal - 1] = np.nan
    return out


@pytest.mark.parametrize("window", [1, 2, 20, 200])
def test_sma_matches_pandas_on_samples(sample_bars: pd.DataFrame, window: int) -> None:
    close = sample_bars["close"]
    assert_matches(sma_nb(close.to_numpy(), window), close.rolling(window).mean().to_numpy())


@pytest.mark.parametrize("span", [1, 2, 12, 200])
def test_ema_matches_pandas_on_samples(sample_bars: pd.DataFrame, span: int) -> None:
    close = sample_bars["close"]
    expected = close.ewm(span=span, adjust=False).mean().to_numpy()
    assert_matches(ema_nb(close.to_numpy(), span), expected)


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (3, 10, 1), (5, 6, 30)])
def test_macd_matches_pandas_on_samples(
    sample_bars: pd.DataFrame, fast: int, slow: int, signal: int
) -> None:
    close = sample_bars["close"].to_numpy()
    scale = np.nanmax(np.abs(close))
    got_all = macd_nb(close, fast, slow, signal)
    for got, want in zip(got_all, macd_oracle(close, fast, slow, signal), strict=True):
        assert_matches(got, want, atol=RTOL * scale)


@settings(max_examples=150, deadline=None)
@given(x=walks(), window=st.integers(1, 50))
def test_sma_matches_pandas(x: np.ndarray, window: int) -> None:
    assert_matches(sma_nb(x, window), pd.Series(x).rolling(window).mean().to_numpy())


@settings(max_examples=150, deadline=None)
@given(x=walks(), span=st.integers(1, 50))
def test_ema_matches_pandas_exactly(x: np.ndarray, span: int) -> None:
    assume(not pandas_span3_quirk(x, span))
    expected = pd.Series(x).ewm(span=span, adjust=False).mean().to_numpy()
    np.testing.assert_array_equal(ema_nb(x, span), expected)


@settings(max_examples=150, deadline=None)
@given(x=walks(), fast=st.integers(1, 50), slow=st.integers(1, 50), signal=st.integers(1, 50))
def test_macd_matches_pandas(x: np.ndarray, fast: int, slow: int, signal: int) -> None:
    assume(not pandas_span3_quirk(x, fast, slow, signal))
    for got, want in zip(
        macd_nb(x, fast, slow, signal), macd_oracle(x, fast, slow, signal), strict=True
    ):
        assert_matches(got, want, atol=RTOL * 100)


def test_macd_warm_up_positions() -> None:
    line, sig, hist = macd_nb(np.linspace(1.0, 2.0, 60), 12, 26, 9)
    assert np.isnan(line[:25]).all() and not np.isnan(line[25:]).any()
    assert np.isnan(sig[:33]).all() and not np.isnan(sig[33:]).any()
    np.testing.assert_array_equal(np.isnan(hist), np.isnan(sig))


def test_ema_seeds_at_first_value_and_carries_over_nan() -> None:
    x = np.array([np.nan, np.nan, 4.0, np.nan, 10.0])
    out = ema_nb(x, 3)
    assert np.isnan(out[:2]).all()
    assert out[2] == 4.0 and out[3] == 4.0
    # ignore_na=False: the gap decays the old weight, so 10 weighs 0.5 / (0.25 + 0.5).
    assert out[4] == pytest.approx((0.25 * 4.0 + 0.5 * 10.0) / 0.75, rel=1e-15)


@pytest.mark.parametrize("span", [2, 3, 4])
def test_ema_gap_keeps_documented_weights(span: int) -> None:
    """pandas documents weights (1-a)**2 and a for [x0, NaN, x2]; pandas 3.x breaks it at span=3."""
    alpha = 2.0 / (span + 1.0)
    old = (1.0 - alpha) ** 2
    out = ema_nb(np.array([100.0, np.nan, 101.0]), span)
    assert out[2] == pytest.approx((old * 100.0 + alpha * 101.0) / (old + alpha), rel=1e-15)


def test_window_longer_than_series_is_all_nan() -> None:
    x = np.arange(5.0)
    assert np.isnan(sma_nb(x, 6)).all()
    assert all(np.isnan(part).all() for part in macd_nb(x, 3, 6, 2))
    assert sma_nb(np.empty(0), 3).shape == (0,)
