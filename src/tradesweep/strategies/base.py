"""The strategy contract every built-in, plugin and declarative strategy follows.

A strategy instance is bound to one validated parameter set. It has two forms that must agree
bar for bar:

* vectorised: :meth:`Strategy.signals` takes the whole bar frame and returns :class:`Signals`,
  four boolean arrays computed on each bar's close (the engine fills them later);
* streaming: :meth:`Strategy.on_candle` takes one :class:`Candle` at a time and returns the
  :class:`SignalFlag` of that bar (or ``None`` when nothing fires); :meth:`Strategy.reset`
  forgets all state.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntFlag
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from tradesweep.errors import ParameterError, did_you_mean
from tradesweep.indicators.convention import (
    DEFAULT_CONVENTION,
    IndicatorConvention,
    check_convention,
)


class SignalFlag(IntFlag):
    """What fired on one bar. Several flags may fire together (a cross up is a long entry and a
    short exit)."""

    NONE = 0
    LONG_ENTRY = 1
    LONG_EXIT = 2
    SHORT_ENTRY = 4
    SHORT_EXIT = 8


class Signals(NamedTuple):
    """Vectorised signals: four boolean arrays as long as the bars."""

    long_entry: np.ndarray
    long_exit: np.ndarray
    short_entry: np.ndarray
    short_exit: np.ndarray

    def flags(self) -> np.ndarray:
        """Per-bar :class:`SignalFlag` values as an int array (for parity checks)."""
        return (
            self.long_entry.astype(np.int64) * int(SignalFlag.LONG_ENTRY)
            + self.long_exit.astype(np.int64) * int(SignalFlag.LONG_EXIT)
            + self.short_entry.astype(np.int64) * int(SignalFlag.SHORT_ENTRY)
            + self.short_exit.astype(np.int64) * int(SignalFlag.SHORT_EXIT)
        )

    @classmethod
    def empty(cls, n: int) -> Signals:
        return cls(*(np.zeros(n, dtype=np.bool_) for _ in range(4)))


class Candle(NamedTuple):
    """One bar for the streaming form."""

    timestamp: pd.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float


def iter_candles(bars: pd.DataFrame) -> list[Candle]:
    """The bars of a normalised OHLCV frame as candles, oldest first."""
    cols = [bars[c].to_numpy(dtype=np.float64) for c in ("open", "high", "low", "close", "volume")]
    return [Candle(ts, *(float(c[i]) for c in cols)) for i, ts in enumerate(bars.index)]


@dataclass(frozen=True)
class Param:
    """One entry of a strategy's parameter schema."""

    name: str
    type: type  # int or float
    default: int | float
    min: int | float
    max: int | float
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "description": self.description,
        }

    def coerce(self, value: Any, strategy: str) -> int | float:
        """Return ``value`` as this parameter's type, or raise a ParameterError saying why."""
        where = f"parameter '{self.name}' of strategy '{strategy}'"
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{where} must be a number, got {value!r}",
                fix=f"give a {self.type.__name__} between {self.min} and {self.max}",
                strategy=strategy,
                parameter=self.name,
            ) from None
        if not math.isfinite(number):
            raise ParameterError(
                f"{where} must be finite, got {value!r}",
                fix=f"give a {self.type.__name__} between {self.min} and {self.max}",
                strategy=strategy,
                parameter=self.name,
            )
        if self.type is int:
            if number != int(number):
                raise ParameterError(
                    f"{where} must be a whole number, got {value!r}",
                    fix=f"give an integer between {self.min} and {self.max}",
                    strategy=strategy,
                    parameter=self.name,
                )
            number = int(number)
        if not (self.min <= number <= self.max):
            raise ParameterError(
                f"{where} is {number}, outside its bounds [{self.min}, {self.max}]",
                fix=f"give a value between {self.min} and {self.max}",
                strategy=strategy,
                parameter=self.name,
            )
        return number


class Strategy(ABC):
    """Base class for every strategy. Subclasses set ``name``, ``description`` and ``schema``
    and implement :meth:`signals`, :meth:`on_candle`, :meth:`reset` and :meth:`warmup_period`.

    Subclasses may override :meth:`check` for rules across parameters (fast < slow).

    ``indicator_convention`` (``"pandas"`` or ``"talib"``, see
    :mod:`tradesweep.indicators.convention`) says which definition of EMA, MACD, ATR and
    Bollinger bands the strategy computes, in both forms; the built-ins honour it."""

    name: ClassVar[str]
    description: ClassVar[str]
    schema: ClassVar[tuple[Param, ...]]

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
    ) -> None:
        self.params: dict[str, int | float] = self.validate_params(params)
        self.indicator_convention: IndicatorConvention = check_convention(indicator_convention)
        self.reset()

    @classmethod
    def defaults(cls) -> dict[str, int | float]:
        return {p.name: p.default for p in cls.schema}

    @classmethod
    def validate_params(cls, params: Mapping[str, Any] | None) -> dict[str, int | float]:
        """Fill defaults, refuse unknown names (with a did-you-mean), coerce types, check bounds
        and cross-parameter rules. Returns a new dict in schema order."""
        given = dict(params or {})
        known = {p.name: p for p in cls.schema}
        for key in given:
            if key not in known:
                hint = did_you_mean(key, known)
                raise ParameterError(
                    f"unknown parameter '{key}' for strategy '{cls.name}'",
                    fix=f"{hint}valid parameters: {', '.join(known) or '(none)'}",
                    strategy=cls.name,
                    parameter=key,
                )
        values = {
            p.name: p.coerce(given[p.name], cls.name) if p.name in given else p.default
            for p in cls.schema
        }
        cls.check(values)
        return values

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        """Rules across parameters; raise ParameterError. Default: none."""
        return None

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name,
            "description": cls.description,
            "parameters": [p.to_dict() for p in cls.schema],
            "warmup_period": cls(None).warmup_period(),
        }

    @abstractmethod
    def warmup_period(self) -> int:
        """Bars needed before the first signal can fire with these parameters."""

    @abstractmethod
    def signals(self, bars: pd.DataFrame) -> Signals:
        """Vectorised signals over a normalised OHLCV frame."""

    @abstractmethod
    def on_candle(self, candle: Candle) -> SignalFlag | None:
        """Streaming form: consume one bar, return what fired on it (None if nothing)."""

    @abstractmethod
    def reset(self) -> None:
        """Forget all streaming state."""

    def stream(self, bars: pd.DataFrame) -> np.ndarray:
        """Run the streaming form over ``bars`` from a reset state; per-bar flags as ints."""
        self.reset()
        out = np.zeros(len(bars), dtype=np.int64)
        for i, candle in enumerate(iter_candles(bars)):
            flag = self.on_candle(candle)
            out[i] = int(flag) if flag is not None else 0
        return out
