"""``vwap``: reversion to the rolling or session VWAP."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesweep.indicators.nb import vwap_rolling_nb, vwap_session_nb
from tradesweep.indicators.streaming import StreamingVWAP
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import price, to_flag

NS_PER_DAY = 86_400_000_000_000


def session_ids(index: pd.DatetimeIndex) -> np.ndarray:
    """The UTC calendar day of each bar as an int64 (days since 1970-01-01)."""
    return np.ascontiguousarray(index.as_unit("ns").asi8 // NS_PER_DAY, dtype=np.int64)


def vwap(bars: pd.DataFrame, window: int) -> np.ndarray:
    """Rolling VWAP over ``window`` bars, or the session (UTC day) VWAP when ``window == 0``."""
    high, low, close, volume = (price(bars, c) for c in ("high", "low", "close", "volume"))
    if window == 0:
        sessions = session_ids(pd.DatetimeIndex(bars.index))
        return vwap_session_nb(high, low, close, volume, sessions)
    return vwap_rolling_nb(high, low, close, volume, window)


class Vwap(ConfiguredStrategy, config="vwap"):
    """Long on a close more than ``threshold`` below VWAP, out at VWAP; shorts mirror."""

    def warmup_period(self) -> int:
        return max(int(self.params["window"]) - 1, 0)

    def signals(self, bars: pd.DataFrame) -> Signals:
        threshold = float(self.params["threshold"])
        close = price(bars, "close")
        level = vwap(bars, int(self.params["window"]))
        return Signals(
            close < level * (1.0 - threshold),
            close >= level,
            close > level * (1.0 + threshold),
            close <= level,
        )

    def reset(self) -> None:
        window = int(self.params["window"])
        self._vwap = StreamingVWAP(window if window > 0 else None)

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        threshold = float(self.params["threshold"])
        close = candle.close
        level = self._vwap.update(
            candle.timestamp, candle.high, candle.low, candle.close, candle.volume
        )
        return to_flag(
            close < level * (1.0 - threshold),
            close >= level,
            close > level * (1.0 + threshold),
            close <= level,
        )
