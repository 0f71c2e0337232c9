"""``grid``: buy a level down, sell a level up (and the mirror image for shorts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradesweep.errors import ParameterError
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.builtins.nb import grid_signals_nb
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import price, to_flag


class Grid(ConfiguredStrategy, config="grid"):
    """See ``configs/grid.yaml``; the vectorised form is :func:`grid_signals_nb`, the streaming
    form below repeats its state machine in plain Python."""

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if params["lower"] >= params["upper"]:
            raise ParameterError(
                f"strategy 'grid' needs lower < upper, got lower={params['lower']}, "
                f"upper={params['upper']}",
                fix="make lower smaller than upper",
                strategy=cls.name,
                parameter="lower",
            )

    def levels(self) -> np.ndarray:
        p = self.params
        return np.linspace(float(p["lower"]), float(p["upper"]), int(p["levels"]))

    def warmup_period(self) -> int:
        return 1

    def signals(self, bars: pd.DataFrame) -> Signals:
        return Signals(*grid_signals_nb(price(bars, "close"), self.levels()))

    def reset(self) -> None:
        self._levels = [float(x) for x in self.levels()]
        self._prev = math.nan
        self._long_at = -1
        self._short_at = -1

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        levels, prev, close = self._levels, self._prev, candle.close
        self._prev = close
        long_entry = long_exit = short_entry = short_exit = False
        if self._long_at >= 0:
            if close > levels[self._long_at + 1]:
                long_exit, self._long_at = True, -1
        else:
            crossed = [k for k in range(len(levels) - 1) if close < levels[k] <= prev]
            if crossed:
                long_entry, self._long_at = True, crossed[0]
        if self._short_at >= 0:
            if close < levels[self._short_at - 1]:
                short_exit, self._short_at = True, -1
        else:
            crossed = [k for k in range(1, len(levels)) if prev <= levels[k] < close]
            if crossed:
                short_entry, self._short_at = True, crossed[-1]
        return to_flag(long_entry, long_exit, short_entry, short_exit)
