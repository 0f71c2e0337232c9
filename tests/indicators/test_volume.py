"""Session and rolling VWAP against pandas; the volume profile against a plain-Python loop."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tradesweep.indicators.api import utc_day_ids
from tradesweep.indicators.nb import (
    VALUE_AREA_SLACK,
    volume_profile_nb,
    vwap_rolling_nb,
    vwap_session_nb,
)

RTOL = 1e-9


@st.composite
def bar_arrays(draw: st.DrawFn, max_size: int = 120, nans: bool = True) -> dict[str, np.ndarray]:
    """Positive random-walk bars (close inside [low, high]), volumes with zeros, maybe a NaN."""
    n = draw(st.integers(0, max_size))
    step = st.one_of(st.just(0.0), st.floats(-0.05, 0.05))
    close = 100.0 * np.exp(np.cumsum(draw(hnp.arrays(np.float64, n, elements=step))))
    up = draw(hnp.arrays(np.float64, n, elements=st.one_of(st.just(0.0), st.floats(0, 2))))
    down = draw(hnp.arrays(np.float64, n, elements=st.one_of(st.just(0.0), st.floats(0, 2))))
    # Volumes span 9 decades, not 300: a running sum's error is ~eps**2 x the largest volume.
    vol = st.one_of(st.just(0.0), st.floats(1e-3, 1e6))
    volume = draw(hnp.arrays(np.float64, n, elements=vol))
    bars = {"high": close + up, "low": close - down, "close": close, "volume": volume}
    if n and nans and draw(st.booleans()):
        column = draw(st.sampled_from(sorted(bars)))
        bars[column][draw(st.integers(0, n - 1))] = np.nan
    return bars


def columns(bars: pd.DataFrame | dict[str, np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(bars[c], dtype=np.float64) for c in ("high", "low", "close", "volume")]


def assert_matches(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions")
    np.testing.assert_allclose(actual, expected, rtol=RTOL)


def vwap_session_oracle(h, lo, c, v, session_id) -> np.ndarray:
    pv = pd.Series((h + lo + c) / 3.0 * v)
    vol = pd.Series(v)
    # A NaN stays in its session's cumulative sums (pandas' cumsum would skip it).
    poisoned = pd.Series(np.isnan(pv.to_numpy())).groupby(session_id).cummax().to_numpy()
    vol_sum = vol.groupby(session_id).cumsum().to_numpy()
    out = pv.groupby(session_id).cumsum().to_numpy() / np.where(vol_sum == 0, np.nan, vol_sum)
    out[poisoned] = np.nan
    return out


def vwap_rolling_oracle(h, lo, c, v, window: int) -> np.ndarray:
    pv = pd.Series((h + lo + c) / 3.0 * v)
    vol = pd.Series(v)
    vol_sum = vol.rolling(window).sum().to_numpy()
    no_volume = pd.Series(v != 0).rolling(window).sum().to_numpy() == 0
    out = pv.rolling(window).sum().to_numpy() / np.where(no_volume, np.nan, vol_sum)
    return out


def profile_oracle(h, lo, c, v, lookback: int, bins: int, pct: float) -> np.ndarray:
    """Plain-Python volume profile, one window at a time, as documented on the kernel."""
    n = len(c)
    out = np.full((n, 3), np.nan)
    for t in range(lookback - 1, n):
        rows = list(
            zip(*(a[t - lookback + 1 : t + 1].tolist() for a in (h, lo, c, v)), strict=True)
        )
        if any(math.isnan(x) for row in rows for x in row):
            continue
        bottom, top = min(r[1] for r in rows), max(r[0] for r in rows)
        width = (top - bottom) / bins
        if width <= 0:
            out[t] = bottom
            continue
        volume = [0.0] * bins
        for hi, low, close, vol in rows:
            f = ((hi + low + close) / 3.0 - bottom) / width
            volume[min(bins - 1, max(0, math.floor(f)))] += vol
        total = math.fsum(volume)
        if total == 0:
            continue
        poc = volume.index(max(volume))
        area = {poc}
        while math.fsum(volume[k] for k in area) < pct * total * (1 - VALUE_AREA_SLACK):
            below, above = min(area) - 1, max(area) + 1
            options = [k for k in (above, below) if 0 <= k < bins]
            area.add(max(options, key=lambda k: (volume[k], k)))
        out[t] = (
            bottom + (poc + 0.5) * width,
            bottom + min(area) * width,
            bottom + (max(area) + 1) * width,
        )
    return out


# --- VWAP ---------------------------------------------------------------------------------


def test_vwap_session_matches_pandas_on_samples(sample_bars: pd.DataFrame) -> None:
    sid = utc_day_ids(sample_bars.index)
    h, lo, c, v = columns(sample_bars)
    assert_matches(vwap_session_nb(h, lo, c, v, sid), vwap_session_oracle(h, lo, c, v, sid))


@pytest.mark.parametrize("window", [1, 2, 24, 500])
def test_vwap_rolling_matches_pandas_on_samples(sample_bars: pd.DataFrame, window: int) -> None:
    h, lo, c, v = columns(sample_bars)
    assert_matches(vwap_rolling_nb(h, lo, c, v, window), vwap_rolling_oracle(h, lo, c, v, window))


@settings(max_examples=150, deadline=None)
@given(bars=bar_arrays(), data=st.data())
def test_vwap_session_matches_pandas(bars: dict[str, np.ndarray], data: st.DataObject) -> None:
    n = bars["close"].size
    new_session = data.draw(hnp.arrays(np.bool_, n))
    sid = np.cumsum(new_session).astype(np.int64)
    h, lo, c, v = columns(bars)
    assert_matches(vwap_session_nb(h, lo, c, v, sid), vwap_session_oracle(h, lo, c, v, sid))


@settings(max_examples=150, deadline=None)
@given(bars=bar_arrays(), window=st.integers(1, 50))
def test_vwap_rolling_matches_pandas(bars: dict[str, np.ndarray], window: int) -> None:
    h, lo, c, v = columns(bars)
    assert_matches(vwap_rolling_nb(h, lo, c, v, window), vwap_rolling_oracle(h, lo, c, v, window))


def test_vwap_session_restarts_each_day(eurusd: pd.DataFrame) -> None:
    h, lo, c, v = columns(eurusd)
    out = vwap_session_nb(h, lo, c, v, utc_day_ids(eurusd.index))
    first_bars = np.flatnonzero(np.diff(eurusd.index.normalize().asi8, prepend=0) != 0)
    np.testing.assert_allclose(out[first_bars], ((h + lo + c) / 3.0)[first_bars], rtol=1e-15)


# --- volume profile -----------------------------------------------------------------------


@pytest.mark.parametrize(("lookback", "bins", "pct"), [(1, 1, 1.0), (20, 12, 0.7), (50, 24, 0.9)])
def test_volume_profile_matches_oracle_on_samples(
    sample_bars: pd.DataFrame, lookback: int, bins: int, pct: float
) -> None:
    h, lo, c, v = columns(sample_bars)
    got = np.column_stack(volume_profile_nb(h, lo, c, v, lookback, bins, pct))
    want = profile_oracle(h, lo, c, v, lookback, bins, pct)
    for k in range(3):
        assert_matches(got[:, k], want[:, k])


@settings(max_examples=150, deadline=None)
@given(
    bars=bar_arrays(max_size=80),
    lookback=st.integers(1, 50),
    bins=st.integers(1, 30),
    pct=st.floats(0.01, 1.0),
)
def test_volume_profile_matches_oracle(
    bars: dict[str, np.ndarray], lookback: int, bins: int, pct: float
) -> None:
    h, lo, c, v = columns(bars)
    got = np.column_stack(volume_profile_nb(h, lo, c, v, lookback, bins, pct))
    want = profile_oracle(h, lo, c, v, lookback, bins, pct)
    for k in range(3):
        assert_matches(got[:, k], want[:, k])


def test_volume_profile_hand_example() -> None:
    # Typical prices 1, 2, 3, 4 over [0.5, 4.5] in 4 bins of width 1; volumes 1, 5, 2, 3.
    close = np.array([1.0, 2.0, 3.0, 4.0])
    high, low = close + 0.5, close - 0.5
    volume = np.array([1.0, 5.0, 2.0, 3.0])
    poc, va_low, va_high = volume_profile_nb(high, low, close, volume, 4, 4, 0.7)
    # POC bin 1 (5); add bin 2 (2) over bin 0 (1): 7/11 < 0.7; add bin 3 (3): 10/11.
    assert (poc[3], va_low[3], va_high[3]) == (2.0, 1.5, 4.5)
    assert np.isnan(poc[:3]).all()


def test_volume_profile_ties_and_degenerate_window() -> None:
    close = np.array([1.0, 2.0, 3.0])
    high, low = close + 0.5, close - 0.5
    poc, va_low, va_high = volume_profile_nb(high, low, close, np.ones(3), 3, 3, 0.5)
    # Equal volumes: POC is the lowest bin; the value area grows upwards on a tie.
    assert (poc[2], va_low[2], va_high[2]) == (1.0, 0.5, 2.5)
    flat = np.full(3, 7.0)
    assert all(part[2] == 7.0 for part in volume_profile_nb(flat, flat, flat, flat, 3, 5, 0.7))
