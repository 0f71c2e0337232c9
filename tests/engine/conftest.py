"""Factories for engine tests: hand-written bars, sparse signals, SMA crossover signals."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import pytest

from tradesweep.strategies.base import Signals

BarsFactory = Callable[[Sequence[Sequence[float]]], pd.DataFrame]
SignalsFactory = Callable[..., Signals]


def bars_frame(rows: Sequence[Sequence[float]]) -> pd.DataFrame:
    """Bars from ``(open, high, low, close)`` rows, or a bare ``close`` number (then
    open = high = low = close), daily from 2024-01-01 UTC."""
    ohlc = [(r, r, r, r) if isinstance(r, int | float) else tuple(r) for r in rows]
    frame = pd.DataFrame(ohlc, columns=["open", "high", "low", "close"], dtype=np.float64)
    frame["volume"] = 1.0
    frame.index = pd.date_range("2024-01-01", periods=len(rows), freq="D", tz="UTC")
    frame.index.name = "timestamp"
    return frame


@pytest.fixture
def make_bars() -> BarsFactory:
    return bars_frame


@pytest.fixture
def make_signals() -> SignalsFactory:
    """``make_signals(n, long_entry=[bars], long_exit=[...], short_entry=..., short_exit=...)``:
    Signals of length n that fire on the listed bar numbers."""

    def make(n: int, **fired: Iterable[int]) -> Signals:
        arrays = {name: np.zeros(n, dtype=np.bool_) for name in Signals._fields}
        for name, bars in fired.items():
            arrays[name][list(bars)] = True
        return Signals(**arrays)

    return make


def sma_cross(close: pd.Series, fast: int, slow: int) -> tuple[np.ndarray, np.ndarray]:
    """(cross up, cross down) of pandas rolling means; False during the warm-up."""
    fast_ma = close.rolling(fast).mean()
    slow_ma = close.rolling(slow).mean()
    ready = slow_ma.notna() & slow_ma.shift(1).notna()
    above = fast_ma > slow_ma
    was_above = above.shift(1, fill_value=False)
    up = above & ~was_above & ready
    down = ~above & was_above & ready
    return up.to_numpy(), down.to_numpy()


@pytest.fixture
def sma_signals() -> Callable[[pd.Series, int, int], tuple[np.ndarray, np.ndarray]]:
    return sma_cross
