"""An example plugin: time-series momentum, in both forms.

Long when the close is more than ``threshold`` above the close ``lookback`` bars ago, short when
it is more than ``threshold`` below it; each side exits when the return crosses back through 0.

Use it with ``tradesweep strategies show examples/plugins/momentum.py`` or
``get_strategy("examples/plugins/momentum.py", {"lookback": 60})``; check it with
``tradesweep.strategies.lookahead.assert_no_lookahead``.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pandas as pd

from tradesweep.strategies import Candle, Param, SignalFlag, Signals, Strategy


def momentum_signals(ret: np.ndarray, threshold: float) -> Signals:
    """Entries on the return beyond +/- threshold, exits on its sign change."""
    prev = np.concatenate(([np.nan], ret[:-1]))
    return Signals(
        ret > threshold,
        (ret < 0.0) & (prev >= 0.0),
        ret < -threshold,
        (ret > 0.0) & (prev <= 0.0),
    )


class Momentum(Strategy):
    name = "momentum"
    description = (
        "Time-series momentum: long while the return over `lookback` bars exceeds `threshold`, "
        "short while it is below -threshold; a side exits when the return changes sign."
    )
    schema = (
        Param("lookback", int, 20, 2, 1000, "Bars in the momentum return."),
        Param("threshold", float, 0.02, 0.0, 1.0, "Return that triggers an entry (fraction)."),
    )

    def warmup_period(self) -> int:
        return int(self.params["lookback"])

    def signals(self, bars: pd.DataFrame) -> Signals:
        close = bars["close"].to_numpy(dtype=np.float64)
        lookback = int(self.params["lookback"])
        past = np.full(close.shape[0], np.nan)
        past[lookback:] = close[:-lookback]
        return momentum_signals(close / past - 1.0, float(self.params["threshold"]))

    def reset(self) -> None:
        self._closes: deque[float] = deque(maxlen=int(self.params["lookback"]) + 1)
        self._prev_ret = math.nan

    def on_candle(self, candle: Candle) -> SignalFlag | None:
        self._closes.append(candle.close)
        full = len(self._closes) == self._closes.maxlen
        ret = candle.close / self._closes[0] - 1.0 if full else math.nan
        prev, self._prev_ret = self._prev_ret, ret
        threshold = float(self.params["threshold"])
        flag = SignalFlag.NONE
        if ret > threshold:
            flag |= SignalFlag.LONG_ENTRY
        if ret < 0.0 and prev >= 0.0:
            flag |= SignalFlag.LONG_EXIT
        if ret < -threshold:
            flag |= SignalFlag.SHORT_ENTRY
        if ret > 0.0 and prev <= 0.0:
            flag |= SignalFlag.SHORT_EXIT
        return flag or None
