"""``boom``: a strategy whose backtest always raises RuntimeError (a bug, not bad input), for
the retry tests."""

from __future__ import annotations

import pandas as pd

from tradesweep.strategies import Candle, Param, SignalFlag, Signals, Strategy

MESSAGE = "boom: this strategy always fails"


class Boom(Strategy):
    name = "boom"
    description = "Raises RuntimeError."
    schema = (Param("n", int, 1, 1, 100, "Unused."),)

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Signals:
        raise RuntimeError(MESSAGE)

    def reset(self) -> None:
        return None

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        raise RuntimeError(MESSAGE)
