"""The built-in strategy library; each one's rules and schema live in ``configs/NAME.yaml``."""

from __future__ import annotations

from tradesweep.strategies.base import Strategy
from tradesweep.strategies.builtins.bollinger import Bollinger
from tradesweep.strategies.builtins.crossover import EmaCrossover, SmaCrossover
from tradesweep.strategies.builtins.grid import Grid
from tradesweep.strategies.builtins.macd import Macd
from tradesweep.strategies.builtins.rsi import Rsi
from tradesweep.strategies.builtins.volume_profile import VolumeProfile
from tradesweep.strategies.builtins.vwap import Vwap

BUILTINS: dict[str, type[Strategy]] = {
    cls.name: cls
    for cls in (SmaCrossover, EmaCrossover, Macd, Rsi, Bollinger, Vwap, VolumeProfile, Grid)
}

__all__ = [
    "BUILTINS",
    "Bollinger",
    "EmaCrossover",
    "Grid",
    "Macd",
    "Rsi",
    "SmaCrossover",
    "VolumeProfile",
    "Vwap",
]
