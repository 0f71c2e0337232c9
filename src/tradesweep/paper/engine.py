"""The strategy engine: one leg's strategy run bar by bar on closed candles.

It uses the streaming form every strategy has (:meth:`Strategy.on_candle`, which agrees bar for
bar with the vectorised :meth:`Strategy.signals` the backtest uses). Candles given as
``history`` warm the strategy up before the first live candle: their signals are computed and
dropped, so the first live candle already sees full indicators.

A candle at or before the last one seen is a redelivery (the bus delivers at least once) and
yields no signal, so the strategy's state never sees a bar twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tradesweep.paper.candles import Candle
from tradesweep.strategies.base import Candle as StrategyCandle
from tradesweep.strategies.base import SignalFlag, Strategy


@dataclass(frozen=True, slots=True)
class Signal:
    """What fired on one leg's candle (``flags`` may be ``SignalFlag.NONE``)."""

    leg: str
    time: pd.Timestamp
    flags: SignalFlag

    @property
    def long_entry(self) -> bool:
        return bool(self.flags & SignalFlag.LONG_ENTRY)

    @property
    def long_exit(self) -> bool:
        return bool(self.flags & SignalFlag.LONG_EXIT)

    @property
    def short_entry(self) -> bool:
        return bool(self.flags & SignalFlag.SHORT_ENTRY)

    @property
    def short_exit(self) -> bool:
        return bool(self.flags & SignalFlag.SHORT_EXIT)

    def to_dict(self) -> dict[str, Any]:
        return {
            "leg": self.leg,
            "time": int(self.time.value // 1_000_000),
            "flags": int(self.flags),
            "long_entry": self.long_entry,
            "long_exit": self.long_exit,
            "short_entry": self.short_entry,
            "short_exit": self.short_exit,
        }


def strategy_candle(candle: Candle) -> StrategyCandle:
    """A bus candle as the strategies' streaming candle."""
    return StrategyCandle(
        candle.time, candle.open, candle.high, candle.low, candle.close, candle.volume
    )


class StrategyEngine:
    """Runs ``strategy`` (a fresh instance bound to its parameters) for leg ``leg``."""

    def __init__(self, leg: str, strategy: Strategy, history: Iterable[Candle] = ()) -> None:
        self.leg = leg
        self.strategy = strategy
        self.strategy.reset()
        self.last_time: pd.Timestamp | None = None
        self.warmed_up = 0
        for candle in history:
            if self._accept(candle):
                self.strategy.on_candle(strategy_candle(candle))
                self.warmed_up += 1

    def on_candle(self, candle: Candle) -> Signal | None:
        """The candle's signal, or None for a redelivered (already seen) candle."""
        if not self._accept(candle):
            return None
        flags = self.strategy.on_candle(strategy_candle(candle))
        return Signal(self.leg, candle.time, SignalFlag(int(flags or 0)))

    def _accept(self, candle: Candle) -> bool:
        if self.last_time is not None and candle.time <= self.last_time:
            return False
        self.last_time = candle.time
        return True
