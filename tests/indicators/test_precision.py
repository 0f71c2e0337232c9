"""Running sums stay accurate over a million bars of a random walk far from zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tradesweep.indicators.nb import bollinger_nb, sma_nb, vwap_rolling_nb

N = 1_000_000
OFFSET = 1e6


@pytest.fixture(scope="module")
def long_walk() -> np.ndarray:
    rng = np.random.default_rng(20240601)
    return OFFSET + np.cumsum(rng.normal(0.0, 1.0, N))


@pytest.fixture(scope="module")
def level_shift(long_walk: np.ndarray) -> np.ndarray:
    """The walk at 1e9 for half the bars, then at ~10: a plain running sum keeps ~1e-4 of
    rounding debris from the first half, which a compensated one does not."""
    rng = np.random.default_rng(11)
    tail = 10.0 + np.cumsum(rng.normal(0.0, 0.01, N // 2))
    return np.concatenate([long_walk[: N // 2] - OFFSET + 1e9, tail])


def exact_window_sums(x: np.ndarray, window: int) -> np.ndarray:
    """Window sums in long double from the cumulative sum of ``x - x[0]`` (small terms)."""
    shifted = x.astype(np.longdouble) - np.longdouble(x[0])
    csum = np.concatenate([[np.longdouble(0)], np.cumsum(shifted)])
    out = np.full(x.size, np.nan, dtype=np.longdouble)
    out[window - 1 :] = csum[window:] - csum[:-window] + window * np.longdouble(x[0])
    return out


@pytest.mark.parametrize("window", [5, 200])
def test_sma_over_a_million_bars(long_walk: np.ndarray, window: int) -> None:
    got = sma_nb(long_walk, window)
    np.testing.assert_allclose(
        got, pd.Series(long_walk).rolling(window).mean().to_numpy(), rtol=1e-9
    )
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps:  # x86: 80-bit long double
        exact = (exact_window_sums(long_walk, window) / window).astype(np.float64)
        np.testing.assert_allclose(got, exact, rtol=1e-13)


def direct_window_sums(x: np.ndarray, window: int) -> np.ndarray:
    """Each window summed on its own (numpy's pairwise sum): no debris from earlier bars."""
    out = np.full(x.size, np.nan)
    out[window - 1 :] = sliding_window_view(x, window).sum(axis=1)
    return out


@pytest.mark.parametrize("window", [5, 200])
def test_sma_after_a_level_shift(level_shift: np.ndarray, window: int) -> None:
    got = sma_nb(level_shift, window)
    np.testing.assert_allclose(got, direct_window_sums(level_shift, window) / window, rtol=1e-9)


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    return np.random.default_rng(7).lognormal(10.0, 2.0, N)


def test_rolling_vwap_over_a_million_bars(long_walk: np.ndarray, volume: np.ndarray) -> None:
    high, low = long_walk + 0.5, long_walk - 0.5
    got = vwap_rolling_nb(high, low, long_walk, volume, 50)
    pv = pd.Series((high + low + long_walk) / 3.0 * volume)
    want = (pv.rolling(50).sum() / pd.Series(volume).rolling(50).sum()).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_rolling_vwap_after_a_level_shift(level_shift: np.ndarray, volume: np.ndarray) -> None:
    """pandas' rolling sum is itself off by ~1e-4 relative here, so the oracle sums each window."""
    high, low = level_shift + 0.5, level_shift - 0.5
    got = vwap_rolling_nb(high, low, level_shift, volume, 50)
    pv = (high + low + level_shift) / 3.0 * volume
    want = direct_window_sums(pv, 50) / direct_window_sums(volume, 50)
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_bollinger_std_over_a_million_bars(long_walk: np.ndarray) -> None:
    """The band width against numpy's two-pass std per window (pandas' online rolling std is
    off by ~2e-4 relative here: its variance update cancels at a 1e6 offset)."""
    window = 20
    middle, upper, _ = bollinger_nb(long_walk, window, 1.0)
    got = upper - middle
    want = np.full(N, np.nan)
    view = sliding_window_view(long_walk, window)
    for start in range(0, view.shape[0], 100_000):
        chunk = view[start : start + 100_000]
        want[window - 1 + start : window - 1 + start + chunk.shape[0]] = np.std(chunk, 1, ddof=1)
    # upper - middle rounds at the price's scale (ulp of 1e6 ~ 1e-10) not the std's.
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
