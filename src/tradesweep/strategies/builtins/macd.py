"""``macd``: sign changes of the MACD histogram."""

from __future__ import annotations

import pandas as pd

from tradesweep.indicators.nb import macd_nb, macd_talib_nb
from tradesweep.indicators.streaming import StreamingMACD
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.builtins.crossover import check_fast_below_slow, reversal
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import Crossing, crosses_above, crosses_below, price, to_flag


class Macd(ConfiguredStrategy, config="macd"):
    """Long when the histogram crosses above 0, short when it crosses below 0 (the MACD of
    the strategy's indicator convention: ``macd_nb`` or ``macd_talib_nb``)."""

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        check_fast_below_slow(cls.name, params)

    def warmup_period(self) -> int:
        # the histogram is defined from bar slow + signal - 2; a cross needs the bar before
        return int(self.params["slow"] + self.params["signal"] - 1)

    def signals(self, bars: pd.DataFrame) -> Signals:
        p = self.params
        kernel = macd_talib_nb if self.indicator_convention == "talib" else macd_nb
        _, _, hist = kernel(price(bars, "close"), int(p["fast"]), int(p["slow"]), int(p["signal"]))
        return reversal(crosses_above(hist, 0.0), crosses_below(hist, 0.0))

    def reset(self) -> None:
        p = self.params
        self._macd = StreamingMACD(
            int(p["fast"]), int(p["slow"]), int(p["signal"]), convention=self.indicator_convention
        )
        self._cross = Crossing()

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        _, _, hist = self._macd.update(candle.close)
        up, down = self._cross.update(hist, 0.0)
        return to_flag(up, down, down, up)
