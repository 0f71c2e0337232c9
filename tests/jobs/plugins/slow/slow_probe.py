"""``slow_probe``: a strategy whose every backtest sleeps ``delay`` seconds, so a sweep of
``n`` combinations takes about ``n * delay`` seconds (long enough to kill, freeze or cancel a
worker in the middle). Every combination trades (entry every 20 bars), so every row is ranked
and a sweep stores exactly one row per combination."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from tradesweep.strategies import Candle, Param, SignalFlag, Signals, Strategy


class SlowProbe(Strategy):
    name = "slow_probe"
    description = "Sleeps `delay` s per backtest; long every 20 bars from bar `n` % 20."
    schema = (
        Param("n", int, 1, 1, 100_000, "Combination number (shifts the entry bar)."),
        Param("delay", float, 0.2, 0.0, 60.0, "Seconds each backtest sleeps."),
    )

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Signals:
        time.sleep(float(self.params["delay"]))
        bar = np.arange(len(bars))
        phase = int(self.params["n"]) % 20
        none = np.zeros(len(bars), dtype=bool)
        return Signals(bar % 20 == phase, bar % 20 == (phase + 10) % 20, none, none.copy())

    def reset(self) -> None:
        return None

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        return None
