"""Streaming indicators equal the kernels bit for bit (``==``, NaN where NaN)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tradesweep.indicators import nb
from tradesweep.indicators.api import utc_day_ids
from tradesweep.indicators.streaming import (
    StreamingATR,
    StreamingBollinger,
    StreamingEMA,
    StreamingMACD,
    StreamingRSI,
    StreamingSMA,
    StreamingVolumeProfile,
    StreamingVWAP,
)

Columns = dict[str, np.ndarray]


def run(indicator: object, *columns: np.ndarray) -> np.ndarray:
    """Feed the rows of ``columns`` to ``indicator.update``; outputs as a (n, k) array."""
    rows = [indicator.update(*row) for row in zip(*columns, strict=True)]
    if not rows:
        return np.empty((0, 0))
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)


def kernel_out(result: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
    parts = result if isinstance(result, tuple) else (result,)
    return np.column_stack(parts) if parts[0].size else np.empty((0, len(parts)))


def assert_bit_identical(streamed: np.ndarray, kernel: np.ndarray) -> None:
    if kernel.size == 0:
        assert streamed.size == 0
        return
    assert streamed.shape == kernel.shape
    np.testing.assert_array_equal(np.isnan(streamed), np.isnan(kernel), err_msg="NaN positions")
    mask = ~np.isnan(kernel)
    assert (streamed[mask] == kernel[mask]).all(), "streamed values differ from the kernel"


def timestamps(bars: Columns, index: pd.DatetimeIndex | None) -> np.ndarray:
    if index is not None:
        return index.to_numpy()
    # Synthetic hourly bars, so sessions change every 24 rows.
    start = np.datetime64("2024-01-01T20:00", "ns")
    return start + np.arange(bars["close"].size) * np.timedelta64(1, "h")


# One case per indicator: (streaming object, kernel call, which columns it streams).
CASES: dict[str, tuple[Callable[[], object], Callable[..., object], tuple[str, ...]]] = {
    "sma": (lambda: StreamingSMA(7), lambda b: nb.sma_nb(b["close"], 7), ("close",)),
    "sma1": (lambda: StreamingSMA(1), lambda b: nb.sma_nb(b["close"], 1), ("close",)),
    "ema": (lambda: StreamingEMA(10), lambda b: nb.ema_nb(b["close"], 10), ("close",)),
    "macd": (
        lambda: StreamingMACD(12, 26, 9),
        lambda b: nb.macd_nb(b["close"], 12, 26, 9),
        ("close",),
    ),
    "rsi": (lambda: StreamingRSI(14), lambda b: nb.rsi_nb(b["close"], 14), ("close",)),
    "bollinger": (
        lambda: StreamingBollinger(20, 2.0),
        lambda b: nb.bollinger_nb(b["close"], 20, 2.0),
        ("close",),
    ),
    "atr": (
        lambda: StreamingATR(14),
        lambda b: nb.atr_nb(b["high"], b["low"], b["close"], 14),
        ("high", "low", "close"),
    ),
    "vwap_rolling": (
        lambda: StreamingVWAP(window=24),
        lambda b: nb.vwap_rolling_nb(b["high"], b["low"], b["close"], b["volume"], 24),
        ("timestamp", "high", "low", "close", "volume"),
    ),
    "vwap_session": (
        StreamingVWAP,
        lambda b: nb.vwap_session_nb(b["high"], b["low"], b["close"], b["volume"], b["session"]),
        ("timestamp", "high", "low", "close", "volume"),
    ),
    "volume_profile": (
        lambda: StreamingVolumeProfile(30, 12, 0.7),
        lambda b: nb.volume_profile_nb(b["high"], b["low"], b["close"], b["volume"], 30, 12, 0.7),
        ("high", "low", "close", "volume"),
    ),
}


def check_case(name: str, bars: Columns, index: pd.DatetimeIndex | None = None) -> None:
    make, kernel, names = CASES[name]
    stamps = timestamps(bars, index)
    bars = {**bars, "timestamp": stamps, "session": utc_day_ids(pd.DatetimeIndex(stamps))}
    indicator = make()
    streamed = run(indicator, *(bars[c] for c in names))
    assert_bit_identical(streamed, kernel_out(kernel(bars)))
    indicator.reset()
    assert_bit_identical(run(indicator, *(bars[c] for c in names)), streamed)


@pytest.mark.parametrize("name", sorted(CASES))
def test_streaming_equals_kernel_on_samples(sample_bars: pd.DataFrame, name: str) -> None:
    bars = {c: sample_bars[c].to_numpy() for c in ("high", "low", "close", "volume")}
    check_case(name, bars, sample_bars.index)


@st.composite
def bar_arrays(draw: st.DrawFn, max_size: int = 80) -> Columns:
    """Positive random-walk bars with flat stretches, zero volumes, sometimes a NaN."""
    n = draw(st.integers(0, max_size))
    step = st.one_of(st.just(0.0), st.floats(-0.05, 0.05))
    close = 100.0 * np.exp(np.cumsum(draw(hnp.arrays(np.float64, n, elements=step))))
    up = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 2)))
    down = draw(hnp.arrays(np.float64, n, elements=st.floats(0, 2)))
    volume = draw(hnp.arrays(np.float64, n, elements=st.one_of(st.just(0.0), st.floats(1, 1e6))))
    bars = {"high": close + up, "low": close - down, "close": close, "volume": volume}
    if n and draw(st.booleans()):
        bars[draw(st.sampled_from(sorted(bars)))][draw(st.integers(0, n - 1))] = np.nan
    return bars


@settings(max_examples=100, deadline=None)
@given(bars=bar_arrays(), name=st.sampled_from(sorted(CASES)))
def test_streaming_equals_kernel_on_random_bars(bars: Columns, name: str) -> None:
    check_case(name, bars)


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.integers(0, 60), elements=st.floats(-1e3, 1e3)),
    window=st.integers(1, 50),
)
def test_streaming_moving_averages_any_window(x: np.ndarray, window: int) -> None:
    assert_bit_identical(run(StreamingSMA(window), x), kernel_out(nb.sma_nb(x, window)))
    assert_bit_identical(run(StreamingEMA(window), x), kernel_out(nb.ema_nb(x, window)))
    assert_bit_identical(run(StreamingRSI(window), x), kernel_out(nb.rsi_nb(x, window)))
    assert_bit_identical(
        run(StreamingMACD(window, window + 3, 4), x),
        kernel_out(nb.macd_nb(x, window, window + 3, 4)),
    )
    assert_bit_identical(
        run(StreamingBollinger(window, 1.5), x), kernel_out(nb.bollinger_nb(x, window, 1.5))
    )


def test_streaming_vwap_accepts_python_datetimes() -> None:
    vwap = StreamingVWAP()
    utc = dt.UTC
    vwap.update(dt.datetime(2024, 1, 1, 23, tzinfo=utc), 3.0, 1.0, 2.0, 10.0)
    # 00:30 at UTC+2 is 22:30 UTC on the 1st: the same session.
    plus2 = dt.timezone(dt.timedelta(hours=2))
    assert vwap.update(dt.datetime(2024, 1, 2, 0, 30, tzinfo=plus2), 5.0, 3.0, 4.0, 10.0) == 3.0
    assert vwap.update(dt.datetime(2024, 1, 2, 0, 30, tzinfo=utc), 5.0, 3.0, 4.0, 10.0) == 4.0
