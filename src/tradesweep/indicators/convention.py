"""Indicator conventions: which definition of EMA, MACD, ATR and Bollinger bands to compute.

* ``pandas`` (the default): EMA as ``ewm(span, adjust=False)`` seeded with the first value,
  MACD from those EMAs, ATR seeded from the first bar's ``high - low``, Bollinger with the
  sample std (ddof=1). Every result computed before conventions existed is this one.
* ``talib``: TA-Lib's definitions: EMA, MACD and ATR seeded with a simple mean, ATR's true
  range starting at the second bar, Bollinger with the population std (ddof=0). Equal to
  ``talib.EMA/MACD/ATR/BBANDS`` to 1e-10 from TA-Lib's first value, with its NaN positions.

SMA and RSI have one definition (they already equal TA-Lib). ``docs/indicators.md`` compares
the two conventions with measured figures.
"""

from __future__ import annotations

from typing import Literal

from tradesweep.errors import ParameterError, TradesweepError, did_you_mean

IndicatorConvention = Literal["pandas", "talib"]
CONVENTIONS: tuple[str, ...] = ("pandas", "talib")
DEFAULT_CONVENTION: IndicatorConvention = "pandas"


def check_convention(value: object, name: str = "indicator_convention") -> IndicatorConvention:
    """``value`` if it is one of :data:`CONVENTIONS`, else a ParameterError naming ``name``."""
    if value not in CONVENTIONS:
        raise ParameterError(
            f"{name} is {value!r}, not one of {', '.join(CONVENTIONS)}",
            fix=f"{did_you_mean(value, CONVENTIONS)}set {name} to one of: {', '.join(CONVENTIONS)}",
            parameter=name,
        )
    return value  # type: ignore[return-value]


def check_spec_convention(value: object, error: type[TradesweepError]) -> None:
    """For specs: raise ``error`` naming the ``indicator_convention`` field unless ``value`` is
    one of :data:`CONVENTIONS`."""
    if value not in CONVENTIONS:
        raise error(
            f"spec field 'indicator_convention' is {value!r}, not one of {', '.join(CONVENTIONS)}",
            fix=f"{did_you_mean(value, CONVENTIONS)}give one of: {', '.join(CONVENTIONS)}",
            field="indicator_convention",
        )


def convention_field(value: str) -> dict[str, str]:
    """A spec's ``{"indicator_convention": value}`` for its canonical JSON, empty for the
    default: a spec in the default convention keeps the spec_id it had before the field."""
    return {} if value == DEFAULT_CONVENTION else {"indicator_convention": value}
