"""The indicators a declarative strategy may use, each in both forms.

An :class:`IndicatorKind` knows its parameters (with bounds and defaults), its outputs, how to
compute them over a whole bar frame with the numba kernels, how to build the streaming twin,
and from which bar each output is defined (for ``warmup_period``). EMAs are masked before bar
``span - 1``, as the ``ema_crossover`` built-in does and as MACD does inside its kernel.
Every ``Values`` carries the strategy's ``convention``; EMA, MACD, Bollinger and ATR follow it
(:mod:`tradesweep.indicators.convention`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tradesweep.indicators import nb
from tradesweep.indicators import streaming as st
from tradesweep.strategies.base import Candle
from tradesweep.strategies.builtins.vwap import vwap
from tradesweep.strategies.crossing import mask_before, price

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
SOURCE_FIELDS = ("open", "high", "low", "close")

Values = dict[str, Any]  # resolved indicator parameters


@dataclass(frozen=True)
class Arg:
    """One indicator parameter: ``int``, ``float`` or ``source`` (a price field)."""

    kind: str
    default: Any = None  # None: required
    low: float = 1
    high: float = math.inf
    low_open: bool = False  # low itself not allowed

    def admits(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def bounds(self) -> str:
        left = "(" if self.low_open else "["
        return f"{left}{self.low:g}, {self.high:g}]"


class Stream(Protocol):
    def update(self, candle: Candle) -> tuple[float, ...]: ...


@dataclass(frozen=True)
class IndicatorKind:
    name: str
    args: Mapping[str, Arg]
    outputs: tuple[str, ...]
    compute: Callable[[pd.DataFrame, Values], tuple[np.ndarray, ...]]
    stream: Callable[[Values], Stream]
    first_valid: Callable[[Values], tuple[int, ...]]  # one per output


class _Masked:
    """Streaming output of ``make`` with the first ``first`` bars replaced by NaN."""

    def __init__(self, inner: Stream, first: int) -> None:
        self._inner = inner
        self._first = first
        self._bar = 0

    def update(self, candle: Candle) -> tuple[float, ...]:
        values = self._inner.update(candle)
        bar = self._bar
        self._bar += 1
        return values if bar >= self._first else tuple(math.nan for _ in values)


class _OnSource:
    """A one-input streaming indicator fed with one price field of each candle."""

    def __init__(self, indicator: Any, source: str) -> None:
        self._indicator = indicator
        self._source = source

    def update(self, candle: Candle) -> tuple[float, ...]:
        out = self._indicator.update(getattr(candle, self._source))
        return out if isinstance(out, tuple) else (out,)


class _Hlc:
    def __init__(self, indicator: Any, with_volume: bool, with_time: bool = False) -> None:
        self._indicator = indicator
        self._volume = with_volume
        self._time = with_time

    def update(self, candle: Candle) -> tuple[float, ...]:
        args: list[Any] = [candle.high, candle.low, candle.close]
        if self._volume:
            args.append(candle.volume)
        if self._time:
            args.insert(0, candle.timestamp)
        out = self._indicator.update(*args)
        return out if isinstance(out, tuple) else (out,)


def _src(bars: pd.DataFrame, v: Values) -> np.ndarray:
    return price(bars, v["source"])


def _talib(v: Values) -> bool:
    return v.get("convention") == "talib"


def _ema(bars: pd.DataFrame, v: Values) -> tuple[np.ndarray, ...]:
    if _talib(v):
        return (nb.ema_talib_nb(_src(bars, v), v["span"]),)
    return (mask_before(nb.ema_nb(_src(bars, v), v["span"]), v["span"] - 1),)


def _macd(bars: pd.DataFrame, v: Values) -> tuple[np.ndarray, ...]:
    kernel = nb.macd_talib_nb if _talib(v) else nb.macd_nb
    return kernel(_src(bars, v), v["fast"], v["slow"], v["signal"])


def _macd_first(v: Values) -> tuple[int, ...]:
    line = max(v["fast"], v["slow"]) - 1
    signal = line + v["signal"] - 1
    return (signal if _talib(v) else line, signal, signal)


def _bollinger(bars: pd.DataFrame, v: Values) -> tuple[np.ndarray, ...]:
    kernel = nb.bollinger_talib_nb if _talib(v) else nb.bollinger_nb
    return kernel(_src(bars, v), v["window"], v["num_std"])


def _atr(bars: pd.DataFrame, v: Values) -> tuple[np.ndarray, ...]:
    high, low, close = (price(bars, c) for c in ("high", "low", "close"))
    kernel = nb.atr_talib_nb if _talib(v) else nb.atr_nb
    return (kernel(high, low, close, v["period"]),)


def _profile(bars: pd.DataFrame, v: Values) -> tuple[np.ndarray, ...]:
    high, low, close, volume = (price(bars, c) for c in ("high", "low", "close", "volume"))
    return nb.volume_profile_nb(
        high, low, close, volume, v["lookback"], v["bins"], v["value_area_pct"]
    )


SOURCE = Arg("source", "close")

KINDS: dict[str, IndicatorKind] = {
    kind.name: kind
    for kind in (
        IndicatorKind(
            "sma",
            {"window": Arg("int"), "source": SOURCE},
            ("value",),
            lambda bars, v: (nb.sma_nb(_src(bars, v), v["window"]),),
            lambda v: _OnSource(st.StreamingSMA(v["window"]), v["source"]),
            lambda v: (v["window"] - 1,),
        ),
        IndicatorKind(
            "ema",
            {"span": Arg("int"), "source": SOURCE},
            ("value",),
            _ema,
            lambda v: _Masked(
                _OnSource(st.StreamingEMA(v["span"], convention=v["convention"]), v["source"]),
                v["span"] - 1,
            ),
            lambda v: (v["span"] - 1,),
        ),
        IndicatorKind(
            "rsi",
            {"period": Arg("int", 14), "source": SOURCE},
            ("value",),
            lambda bars, v: (nb.rsi_nb(_src(bars, v), v["period"]),),
            lambda v: _OnSource(st.StreamingRSI(v["period"]), v["source"]),
            lambda v: (v["period"],),
        ),
        IndicatorKind(
            "macd",
            {
                "fast": Arg("int", 12),
                "slow": Arg("int", 26),
                "signal": Arg("int", 9),
                "source": SOURCE,
            },
            ("line", "signal", "hist"),
            _macd,
            lambda v: _OnSource(
                st.StreamingMACD(v["fast"], v["slow"], v["signal"], convention=v["convention"]),
                v["source"],
            ),
            _macd_first,
        ),
        IndicatorKind(
            "bollinger",
            {
                "window": Arg("int", 20, low=2),
                "num_std": Arg("float", 2.0, low=0.0, low_open=True),
                "source": SOURCE,
            },
            ("middle", "upper", "lower"),
            _bollinger,
            lambda v: _OnSource(
                st.StreamingBollinger(v["window"], v["num_std"], convention=v["convention"]),
                v["source"],
            ),
            lambda v: (v["window"] - 1,) * 3,
        ),
        IndicatorKind(
            "atr",
            {"period": Arg("int", 14)},
            ("value",),
            _atr,
            lambda v: _Hlc(
                st.StreamingATR(v["period"], convention=v["convention"]), with_volume=False
            ),
            lambda v: (v["period"] if _talib(v) else v["period"] - 1,),
        ),
        IndicatorKind(
            "vwap",
            {"window": Arg("int", 0, low=0)},
            ("value",),
            lambda bars, v: (vwap(bars, v["window"]),),
            lambda v: _Hlc(st.StreamingVWAP(v["window"] or None), with_volume=True, with_time=True),
            lambda v: (max(v["window"] - 1, 0),),
        ),
        IndicatorKind(
            "volume_profile",
            {
                "lookback": Arg("int"),
                "bins": Arg("int", 24),
                "value_area_pct": Arg("float", 0.7, low=0.0, high=1.0, low_open=True),
            },
            ("poc", "val", "vah"),
            _profile,
            lambda v: _Hlc(
                st.StreamingVolumeProfile(v["lookback"], v["bins"], v["value_area_pct"]),
                with_volume=True,
            ),
            lambda v: (v["lookback"] - 1,) * 3,
        ),
    )
}
