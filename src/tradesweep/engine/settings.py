"""Engine settings: one frozen, validated value object per backtest.

Every convention these settings switch is written in ``docs/engine.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from tradesweep.errors import SettingsError, did_you_mean

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


def _help(text: str) -> dict[str, str]:
    """A field's ``metadata``: its one-line description, which the CLI shows as the help of
    the setting's option (:mod:`tradesweep.cli.engine_options`)."""
    return {"help": text}


@dataclass(frozen=True)
class EngineSettings:
    """How the engine turns signals into fills, positions and equity.

    Fractions are plain fractions (``0.001`` is 0.1 %). ``None`` switches a stop or the
    drawdown guard off. Invalid values raise :class:`SettingsError` naming the field, its
    allowed range and the fix. Each field's ``metadata["help"]`` describes it in one line; a
    new field becomes an option of ``tradesweep backtest``, ``sweep`` and ``walkforward``
    from its type, default and help alone.
    """

    cash: float = field(default=10_000.0, metadata=_help("Starting cash (default 10000)."))
    fees: float = field(
        default=0.0, metadata=_help("Fee, fraction of traded notional (0.001 = 0.1 %).")
    )
    fixed_fee: float = field(default=0.0, metadata=_help("Fixed cash fee per fill."))
    slippage: float = field(
        default=0.0, metadata=_help("Price move against each fill, a fraction.")
    )
    fill: FillName = field(
        default="next_open",
        metadata=_help("next_open (default: bar t's signal fills at t+1's open) or close."),
    )
    direction: DirectionName = field(
        default="long_only", metadata=_help("long_only (default), short_only or long_short.")
    )
    size: float = field(
        default=1.0, metadata=_help("Position size, read as size_type says (default 1.0).")
    )
    size_type: SizeTypeName = field(
        default="percent",
        metadata=_help("percent (fraction of equity, default), cash or units."),
    )
    fractional: bool = field(
        default=True, metadata=_help("Trade fractions of a unit (false: whole units only).")
    )
    stop_loss: float | None = field(
        default=None, metadata=_help("Stop loss, fraction of entry price.")
    )
    stop_loss_atr: float | None = field(default=None, metadata=_help("Stop loss, multiple of ATR."))
    take_profit: float | None = field(
        default=None, metadata=_help("Take profit, fraction of entry price.")
    )
    take_profit_atr: float | None = field(
        default=None, metadata=_help("Take profit, multiple of ATR.")
    )
    trailing_stop: float | None = field(
        default=None, metadata=_help("Trailing stop, fraction below the best price.")
    )
    trailing_stop_atr: float | None = field(
        default=None, metadata=_help("Trailing stop, multiple of ATR.")
    )
    atr_period: int = field(
        default=14, metadata=_help("Bars in the ATR of the *-atr stops (default 14).")
    )
    max_drawdown: float | None = field(
        default=None, metadata=_help("Stop trading once equity is this fraction below its peak.")
    )
    close_at_end: bool = field(
        default=True,
        metadata=_help("Close the position still open on the last bar (false: leave it open)."),
    )

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
                raise SettingsError(
                    f"unknown engine setting '{key}'",
                    fix=f"{did_you_mean(key, known)}valid settings: {', '.join(known)}",
                    setting=str(key),
                )
        return cls(**dict(data))

    def replace(self, **changes: Any) -> EngineSettings:
        """A copy with ``changes`` applied (validated like a new instance)."""
        return self.from_dict({**self.to_dict(), **changes})
