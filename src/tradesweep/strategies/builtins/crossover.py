"""Moving-average crossovers: ``sma_crossover`` and ``ema_crossover``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradesweep.errors import ParameterError
from tradesweep.indicators.nb import ema_nb, ema_talib_nb, sma_nb
from tradesweep.indicators.streaming import StreamingEMA, StreamingSMA
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import (
    Crossing,
    crosses_above,
    crosses_below,
    mask_before,
    price,
    to_flag,
)


def check_fast_below_slow(strategy: str, params: dict[str, int | float]) -> None:
    if params["fast"] >= params["slow"]:
        raise ParameterError(
            f"strategy '{strategy}' needs fast < slow, got fast={params['fast']}, "
            f"slow={params['slow']}",
            fix="make fast smaller than slow",
            strategy=strategy,
            parameter="fast",
        )


def reversal(up: np.ndarray, down: np.ndarray) -> Signals:
    """A cross up opens a long and closes a short; a cross down does the opposite."""
    return Signals(up, down, down.copy(), up.copy())


class SmaCrossover(ConfiguredStrategy, config="sma_crossover"):
    """Long on the fast SMA crossing above the slow SMA, short on the cross below."""

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        check_fast_below_slow(cls.name, params)

    def warmup_period(self) -> int:
        return int(self.params["slow"])

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = price(bars, "close")
        fast = sma_nb(close, int(self.params["fast"]))
        slow = sma_nb(close, int(self.params["slow"]))
        return reversal(crosses_above(fast, slow), crosses_below(fast, slow))

    def reset(self) -> None:
        self._fast = StreamingSMA(int(self.params["fast"]))
        self._slow = StreamingSMA(int(self.params["slow"]))
        self._cross = Crossing()

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        up, down = self._cross.update(
            self._fast.update(candle.close), self._slow.update(candle.close)
        )
        return to_flag(up, down, down, up)


class EmaCrossover(ConfiguredStrategy, config="ema_crossover"):
    """Long on the fast EMA crossing above the slow EMA, short on the cross below.

    ``ema_nb`` is defined from bar 0; an EMA of span s is only trusted from bar s - 1 on (the
    MACD convention), otherwise both averages start equal and "cross" on bar 1. Under the
    ``talib`` indicator convention the EMAs are ``ema_talib_nb`` (first value at bar s - 1).
    """

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        check_fast_below_slow(cls.name, params)

    def warmup_period(self) -> int:
        return int(self.params["slow"])

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = price(bars, "close")
        fast_span, slow_span = int(self.params["fast"]), int(self.params["slow"])
        fast = self._ema(close, fast_span)
        slow = self._ema(close, slow_span)
        return reversal(crosses_above(fast, slow), crosses_below(fast, slow))

    def _ema(self, close: np.ndarray, span: int) -> np.ndarray:
        if self.indicator_convention == "talib":
            return ema_talib_nb(close, span)
        return mask_before(ema_nb(close, span), span - 1)

    def reset(self) -> None:
        convention = self.indicator_convention
        self._fast = StreamingEMA(int(self.params["fast"]), convention=convention)
        self._slow = StreamingEMA(int(self.params["slow"]), convention=convention)
        self._cross = Crossing()
        self._bar = 0

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        fast = self._fast.update(candle.close)
        slow = self._slow.update(candle.close)
        if self._bar < self.params["fast"] - 1:
            fast = math.nan
        if self._bar < self.params["slow"] - 1:
            slow = math.nan
        self._bar += 1
        up, down = self._cross.update(fast, slow)
        return to_flag(up, down, down, up)
