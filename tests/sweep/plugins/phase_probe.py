"""A known-answer strategy and the bars it is known on, for sweep and walk-forward tests.

``wave_bars`` is a 20-day sine wave (open = previous close, so a next-open fill is the signal
bar's close). ``phase_probe`` buys on days whose number (days since 2000-01-01) modulo 20 is
``phase`` and sells ``hold`` days later, so on the wave the best parameters are known: enter at
the trough (day 15 of the cycle), hold half a cycle (10 days). ``flip_at`` inverts the wave
from that bar on, which moves the best phase to 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesweep.strategies import Candle, Param, SignalFlag, Signals, Strategy

PERIOD = 20
EPOCH = pd.Timestamp("2000-01-01", tz="UTC")


def day_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    return ((index - EPOCH) // pd.Timedelta(days=1)).to_numpy()


def wave_bars(n: int, *, flip_at: int | None = None, amplitude: float = 0.05) -> pd.DataFrame:
    day = np.arange(n)
    sign = np.where(day < (flip_at if flip_at is not None else n), 1.0, -1.0)
    close = 100.0 * (1.0 + amplitude * sign * np.sin(2 * np.pi * day / PERIOD))
    open_ = np.concatenate(([close[0]], close[:-1]))
    index = pd.date_range(EPOCH, periods=n, freq="D", name="timestamp")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": 1e6,
        },
        index=index,
    )


class PhaseProbe(Strategy):
    name = "phase_probe"
    description = "Long from days with day % 20 == phase until `hold` days later."
    schema = (
        Param("phase", int, 0, 0, PERIOD - 1, "Entry day in the 20-day cycle."),
        Param("hold", int, 10, 1, PERIOD - 1, "Days held."),
    )

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Signals:
        day = day_numbers(pd.DatetimeIndex(bars.index)) % PERIOD
        phase, hold = int(self.params["phase"]), int(self.params["hold"])
        none = np.zeros(len(bars), dtype=bool)
        return Signals(day == phase, day == (phase + hold) % PERIOD, none, none.copy())

    def reset(self) -> None:
        return None

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        day = int(day_numbers(pd.DatetimeIndex([candle.timestamp]))[0]) % PERIOD
        flag = SignalFlag.NONE
        if day == self.params["phase"]:
            flag |= SignalFlag.LONG_ENTRY
        if day == (self.params["phase"] + self.params["hold"]) % PERIOD:
            flag |= SignalFlag.LONG_EXIT
        return flag or None
