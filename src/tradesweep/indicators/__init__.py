"""Technical indicators: numba kernels (:mod:`.nb`), array/pandas wrappers, streaming objects.

Wrappers take a Series/array (or OHLCV bars) and give pandas back for pandas in; the kernels
``*_nb`` in :mod:`tradesweep.indicators.nb` take float64 arrays; the ``Streaming*`` classes
update bar by bar and equal the kernels bit for bit.
"""

from tradesweep.indicators.api import atr, bollinger, ema, macd, rsi, sma, volume_profile, vwap
from tradesweep.indicators.streaming import (
    StreamingATR,
    StreamingBollinger,
    StreamingEMA,
    StreamingMACD,
    StreamingRSI,
    StreamingSMA,
    StreamingVolumeProfile,
    StreamingVWAP,
)

__all__ = [
    "StreamingATR",
    "StreamingBollinger",
    "StreamingEMA",
    "StreamingMACD",
    "StreamingRSI",
    "StreamingSMA",
    "StreamingVWAP",
    "StreamingVolumeProfile",
    "atr",
    "bollinger",
    "ema",
    "macd",
    "rsi",
    "sma",
    "volume_profile",
    "vwap",
]
