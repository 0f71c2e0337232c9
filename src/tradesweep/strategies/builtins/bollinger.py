"""``bollinger``: re-entry into the Bollinger bands, exit at the middle band."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradesweep.indicators.nb import bollinger_nb, bollinger_talib_nb
from tradesweep.indicators.streaming import StreamingBollinger
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import Crossing, crosses_above, crosses_below, price, to_flag


def bandwidth(middle: float, upper: float, lower: float) -> float:
    """``(upper - lower) / middle``; NaN unless ``middle > 0`` (streaming form)."""
    return (upper - lower) / middle if middle > 0.0 else math.nan


class Bollinger(ConfiguredStrategy, config="bollinger"):
    """Long when the close crosses back above the lower band, out at the middle band; shorts
    mirror at the upper band. Entries need bandwidth >= min_bandwidth. The bands use the sample
    std (``bollinger_nb``), or the population std under the ``talib`` indicator convention."""

    def warmup_period(self) -> int:
        return int(self.params["period"]) - 1

    def signals(self, bars: pd.DataFrame) -> Signals:
        p = self.params
        close = price(bars, "close")
        kernel = bollinger_talib_nb if self.indicator_convention == "talib" else bollinger_nb
        middle, upper, lower = kernel(close, int(p["period"]), float(p["num_std"]))
        with np.errstate(divide="ignore", invalid="ignore"):
            width = np.where(middle > 0.0, (upper - lower) / middle, np.nan)
        wide = width >= p["min_bandwidth"]
        long_exit = close >= middle
        short_exit = close <= middle
        long_entry = crosses_above(close, lower) & wide & ~long_exit
        short_entry = crosses_below(close, upper) & wide & ~short_exit
        return Signals(long_entry, long_exit, short_entry, short_exit)

    def reset(self) -> None:
        p = self.params
        self._bands = StreamingBollinger(
            int(p["period"]), float(p["num_std"]), convention=self.indicator_convention
        )
        self._lower = Crossing()
        self._upper = Crossing()

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        close = candle.close
        middle, upper, lower = self._bands.update(close)
        wide = bandwidth(middle, upper, lower) >= self.params["min_bandwidth"]
        long_exit = close >= middle
        short_exit = close <= middle
        back_above_lower, _ = self._lower.update(close, lower)
        _, back_below_upper = self._upper.update(close, upper)
        return to_flag(
            back_above_lower and wide and not long_exit,
            long_exit,
            back_below_upper and wide and not short_exit,
            short_exit,
        )
