"""``volume_profile``: bounces at the edges of the previous bars' value area."""

from __future__ import annotations

import math

import pandas as pd

from tradesweep.indicators.nb import volume_profile_nb
from tradesweep.indicators.streaming import StreamingVolumeProfile
from tradesweep.strategies.base import Candle, SignalFlag, Signals
from tradesweep.strategies.config import ConfiguredStrategy
from tradesweep.strategies.crossing import price, shift, to_flag


class VolumeProfile(ConfiguredStrategy, config="volume_profile"):
    """Long when a bar dips to the value-area low and closes back above it, out at the POC;
    shorts mirror at the value-area high. Levels come from the profile ending on bar t-1."""

    def warmup_period(self) -> int:
        return int(self.params["lookback"])

    def signals(self, bars: pd.DataFrame) -> Signals:
        p = self.params
        high, low, close = price(bars, "high"), price(bars, "low"), price(bars, "close")
        poc, val, vah = volume_profile_nb(
            high,
            low,
            close,
            price(bars, "volume"),
            int(p["lookback"]),
            int(p["bins"]),
            float(p["value_area_pct"]),
        )
        poc, val, vah = shift(poc), shift(val), shift(vah)
        long_exit = close >= poc
        short_exit = close <= poc
        long_entry = (low <= val) & (close > val) & ~long_exit
        short_entry = (high >= vah) & (close < vah) & ~short_exit
        return Signals(long_entry, long_exit, short_entry, short_exit)

    def reset(self) -> None:
        p = self.params
        self._profile = StreamingVolumeProfile(
            int(p["lookback"]), int(p["bins"]), float(p["value_area_pct"])
        )
        self._previous = (math.nan, math.nan, math.nan)

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        poc, val, vah = self._previous
        self._previous = self._profile.update(candle.high, candle.low, candle.close, candle.volume)
        close = candle.close
        long_exit = close >= poc
        short_exit = close <= poc
        return to_flag(
            candle.low <= val and close > val and not long_exit,
            long_exit,
            candle.high >= vah and close < vah and not short_exit,
            short_exit,
        )
