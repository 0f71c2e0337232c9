"""The fused path's pieces: indicator rows, which classes have a fused form, and memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import synthetic_bars
from tradesweep.indicators.nb import bollinger_nb, bollinger_talib_nb, ema_nb, rsi_nb, sma_nb
from tradesweep.strategies import strategy_class
from tradesweep.strategies.crossing import mask_before
from tradesweep.sweep import fused
from tradesweep.sweep import fused_nb as k
from tradesweep.sweep.evaluate import evaluate


@pytest.fixture(scope="module")
def close() -> np.ndarray:
    return synthetic_bars(600, seed=3)["close"].to_numpy()


def rows(close: np.ndarray, kind: int, windows: list[int]) -> np.ndarray:
    plan = fused.FusedPlan(
        kind=0,
        ind_kinds=np.full(len(windows), kind, dtype=np.int64),
        windows=np.asarray(windows, dtype=np.int64),
        rows=np.zeros((0, 2), dtype=np.int64),
        fpar=np.zeros((0, 2)),
    )
    return fused.indicator_cache(close, plan)


WINDOWS = [1, 2, 3, 14, 50, 599, 600, 700]


def test_indicator_rows_equal_the_indicator_kernels(close):
    for got, w in zip(rows(close, k.IND_SMA, WINDOWS), WINDOWS, strict=True):
        np.testing.assert_array_equal(got, sma_nb(close, w))
    for got, w in zip(rows(close, k.IND_EMA, WINDOWS), WINDOWS, strict=True):
        np.testing.assert_array_equal(got, ema_nb(close, w))
    for got, w in zip(rows(close, k.IND_EMA_FROM_SPAN, WINDOWS), WINDOWS, strict=True):
        np.testing.assert_array_equal(got, mask_before(ema_nb(close, w), w - 1))
    for got, w in zip(rows(close, k.IND_RSI, WINDOWS[1:]), WINDOWS[1:], strict=True):
        np.testing.assert_array_equal(got, rsi_nb(close, w))


@pytest.mark.parametrize("num_std", [0.1, 1.0, 2.5])
@pytest.mark.parametrize(
    ("kind", "bands"),
    [(k.IND_ROLLING_STD, bollinger_nb), (k.IND_ROLLING_POP_STD, bollinger_talib_nb)],
    ids=["sample", "talib-population"],
)
def test_rolling_std_rebuilds_the_bollinger_bands_bit_for_bit(close, num_std, kind, bands):
    sds = rows(close, kind, WINDOWS)
    for sd, w in zip(sds, WINDOWS, strict=True):
        middle, upper, lower = bands(close, w, num_std)
        np.testing.assert_array_equal(middle + num_std * sd, upper)
        np.testing.assert_array_equal(middle - num_std * sd, lower)


def test_which_classes_are_fused(tmp_path):
    for name in ("sma_crossover", "ema_crossover", "rsi", "macd", "bollinger"):
        assert fused.fused_name(strategy_class(name)) == name
    for name in ("vwap", "volume_profile", "grid"):
        assert fused.fused_name(strategy_class(name)) is None
    sma = strategy_class("sma_crossover")
    assert fused.fused_name(type("Renamed", (sma,), {})) == "sma_crossover"
    assert fused.fused_name(type("Own", (sma,), {"signals": lambda self, bars: None})) is None


def test_crossover_plan_computes_each_window_once():
    params = {"fast": np.array([2, 2, 3, 5]), "slow": np.array([3, 5, 5, 7])}
    plan = fused.PLANNERS["sma_crossover"](params)
    assert plan.windows.tolist() == [2, 3, 5, 7]
    assert plan.rows.tolist() == [[0, 1], [0, 2], [1, 2], [2, 3]]


def test_fused_sweep_never_holds_bars_times_combinations():
    """20,000 bars x 1,711 combinations would be 274 MB as one float64 matrix; the fused
    path holds the indicator rows (59 x 20,000) and a row of accumulators per combination.
    (tracemalloc sees numpy's allocations made from Python, which include the indicator
    cache and every output; the kernel's own scratch is a few KiB per combination.)"""
    bars = synthetic_bars(20_000, seed=5, interval="1h")
    combos = pd.DataFrame(
        [(f, s) for f in range(2, 61) for s in range(f + 1, 61)], columns=["fast", "slow"]
    )
    evaluate(bars.iloc[:300], "sma_crossover", combos.iloc[:2])  # compile outside the trace
    tracemalloc.start()
    try:
        result = evaluate(bars, "sma_crossover", combos)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.metrics) == len(combos)
    matrix = len(bars) * len(combos) * 8
    assert peak < 40e6 < matrix / 6, f"peak {peak / 1e6:.1f} MB"
