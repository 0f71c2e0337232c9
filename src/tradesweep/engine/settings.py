"""Engine settings: one frozen, validated value object per backtest.

Every convention these settings switch is written in ``docs/engine.md``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from tradesweep.errors import SettingsError

FillName = Literal["next_open", "close"]
DirectionName = Literal["long_only", "short_only", "long_short"]
SizeTypeName = Literal["percent", "cash", "units"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "fill": ("next_open", "close"),
    "direction": ("long_only", "short_only", "long_short"),
    "size_type": ("percent", "cash", "units"),
}


class SettingRange(NamedTuple):
    """The values a numeric setting may take (the sweep's setting axes check against it)."""

    low: float
    high: float
    low_open: bool  # True: the low end itself is not allowed
    high_open: bool

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def text(self) -> str:
        if math.isinf(self.high):
            return f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"


_INF = math.inf
# Optional fields (None switches the feature off) are marked in _OPTIONAL.
SETTING_RANGES: dict[str, SettingRange] = {  # public: sweep.space bounds setting axes by it
    "cash": SettingRange(0.0, _INF, True, True),
    "fees": SettingRange(0.0, 0.1, False, False),
    "fixed_fee": SettingRange(0.0, _INF, False, True),
    "slippage": SettingRange(0.0, 0.1, False, False),
    "stop_loss": SettingRange(0.0, 1.0, True, True),
    "stop_loss_atr": SettingRange(0.0, 100.0, True, False),
    "take_profit": SettingRange(0.0, 10.0, True, False),
    "take_profit_atr": SettingRange(0.0, 100.0, True, False),
    "trailing_stop": SettingRange(0.0, 1.0, True, True),
    "trailing_stop_atr": SettingRange(0.0, 100.0, True, False),
    "max_drawdown": SettingRange(0.0, 1.0, True, True),
}
SIZE_RANGES: dict[str, SettingRange] = {  # by size_type
    "percent": SettingRange(0.0, 1.0, True, False),
    "cash": SettingRange(0.0, _INF, True, True),
    "units": SettingRange(0.0, _INF, True, True),
}
_OPTIONAL = frozenset(
    {
        "stop_loss",
        "stop_loss_atr",
        "take_profit",
        "take_profit_atr",
        "trailing_stop",
        "trailing_stop_atr",
        "max_drawdown",
    }
)
_EXCLUSIVE_PAIRS = (
    ("stop_loss", "stop_loss_atr"),
    ("take_profit", "take_profit_atr"),
    ("trailing_stop", "trailing_stop_atr"),
)
_ATR_PERIOD_MAX = 10_000


@dataclass(frozen=True)
class EngineSettings:
    """How the engine turns signals into fills, positions and equity.

    Fractions are plain fractions (``0.001`` is 0.1 %). ``None`` switches a stop or the
    drawdown guard off. Invalid values raise :class:`SettingsError` naming the field, its
    allowed range and the fix.
    """

    cash: float = 10_000.0
    fees: float = 0.0
    fixed_fee: float = 0.0
    slippage: float = 0.0
    fill: FillName = "next_open"
    direction: DirectionName = "long_only"
    size: float = 1.0
    size_type: SizeTypeName = "percent"
    fractional: bool = True
    stop_loss: float | None = None
    stop_loss_atr: float | None = None
    take_profit: float | None = None
    take_profit_atr: float | None = None
    trailing_stop: float | None = None
    trailing_stop_atr: float | None = None
    atr_period: int = 14
    max_drawdown: float | None = None
    close_at_end: bool = True

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise SettingsError(
                    f"setting '{name}' is {value!r}, not one of {', '.join(allowed)}",
                    fix=f"set {name} to one of: {', '.join(allowed)}",
                    setting=name,
                )
        for name in ("fractional", "close_at_end"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(
                    f"setting '{name}' must be true or false, got {getattr(self, name)!r}",
                    fix=f"set {name} to true or false",
                    setting=name,
                )
        for name, allowed_range in SETTING_RANGES.items():
            self._check_number(name, allowed_range)
        self._check_number("size", SIZE_RANGES[self.size_type])
        self._check_atr_period()
        for first, second in _EXCLUSIVE_PAIRS:
            if getattr(self, first) is not None and getattr(self, second) is not None:
                raise SettingsError(
                    f"settings '{first}' and '{second}' are both set",
                    fix=f"set either {first} (a fraction) or {second} (an ATR multiple)",
                    setting=second,
                )

    def _check_number(self, name: str, allowed: SettingRange) -> None:
        value = getattr(self, name)
        if value is None and name in _OPTIONAL:
            return
        where = f"setting '{name}'"
        if name == "size":
            where += f" (size_type '{self.size_type}')"
        fix = f"give a number in {allowed.text()}" + (
            " or null to switch it off" if name in _OPTIONAL else ""
        )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{where} must be a number, got {value!r}", fix=fix, setting=name)
        if not math.isfinite(value) or not allowed.contains(value):
            raise SettingsError(
                f"{where} is {value!r}, outside its allowed range {allowed.text()}",
                fix=fix,
                setting=name,
            )
        object.__setattr__(self, name, float(value))

    def _check_atr_period(self) -> None:
        value = self.atr_period
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok or (isinstance(value, float) and float(value).is_integer())
        if not ok or not 1 <= value <= _ATR_PERIOD_MAX:
            raise SettingsError(
                f"setting 'atr_period' is {value!r}, not a whole number in [1, {_ATR_PERIOD_MAX}]",
                fix=f"give a whole number of bars between 1 and {_ATR_PERIOD_MAX}",
                setting="atr_period",
            )
        object.__setattr__(self, "atr_period", int(value))

    @property
    def uses_atr(self) -> bool:
        """Whether any stop is an ATR multiple (the engine then needs an ATR array)."""
        return any(
            getattr(self, name) is not None
            for name in ("stop_loss_atr", "take_profit_atr", "trailing_stop_atr")
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field (``None`` for switched-off features)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineSettings:
        """Build settings from a dict; missing fields take their defaults, unknown ones are
        refused with a did-you-mean."""
        known = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise SettingsError(
                    f"unknown engine setting '{key}'",
                    fix=hint + f"valid settings: {', '.join(known)}",
                    setting=str(key),
                )
        return cls(**dict(data))

    def replace(self, **changes: Any) -> EngineSettings:
        """A copy with ``changes`` applied (validated like a new instance)."""
        return self.from_dict({**self.to_dict(), **changes})
