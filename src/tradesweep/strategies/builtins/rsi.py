"""``rsi``: mean reversion between the oversold and overbought levels."""

from __future__ import annotations

import pandas as pd

from tradesweep.errors import ParameterError
from tradesweep.indicators.nb import rsi_nb
from tradesweep.indicators.streaming import StreamingRSI
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import Crossing, crosses_above, crosses_below, price, to_flag


class Rsi(ConfiguredStrategy, config="rsi"):
    """Long on RSI crossing back above oversold, out on crossing above overbought; shorts mirror."""

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if params["oversold"] >= params["overbought"]:
            raise ParameterError(
                f"strategy 'rsi' needs oversold < overbought, got oversold={params['oversold']}, "
                f"overbought={params['overbought']}",
                fix="make oversold smaller than overbought",
                strategy=cls.name,
                parameter="oversold",
            )

    def warmup_period(self) -> int:
        return int(self.params["period"]) + 1

    def signals(self, bars: pd.DataFrame) -> Signals:
        p = self.params
        rsi = rsi_nb(price(bars, "close"), int(p["period"]))
        long_exit = crosses_above(rsi, p["overbought"])
        short_exit = crosses_below(rsi, p["oversold"])
        long_entry = crosses_above(rsi, p["oversold"]) & ~long_exit
        short_entry = crosses_below(rsi, p["overbought"]) & ~short_exit
        return Signals(long_entry, long_exit, short_entry, short_exit)

    def reset(self) -> None:
        self._rsi = StreamingRSI(int(self.params["period"]))
        self._oversold = Crossing()
        self._overbought = Crossing()

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        rsi = self._rsi.update(candle.close)
        up_os, down_os = self._oversold.update(rsi, self.params["oversold"])
        up_ob, down_ob = self._overbought.update(rsi, self.params["overbought"])
        return to_flag(up_os and not up_ob, up_ob, down_ob and not down_os, down_os)
