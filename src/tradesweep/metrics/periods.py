"""Bars per year (the annualisation factor), inferred from the bar timestamps.

One rule, written out in ``docs/metrics.md`` ("Annualisation"):

1. The bar step is the median of the positive gaps between consecutive timestamps.
2. A step of 300 days or more is yearly (1), 60 days or more quarterly (4), 25 days or more
   monthly (12), 5 days or more weekly (52).
3. Otherwise the trading calendar decides how many days a year has:

   * 365 if the market trades on weekends: more than 1/14 of the bars fall on a Saturday (UTC).
     A 24/7 market has 1/7 of its bars there; no exchange session and no FX or futures week
     (Sunday ~22:00 UTC to Friday ~22:00 UTC) reaches Saturday UTC.
   * 260 (52 weeks x 5) for intraday data that runs round the clock on weekdays: the typical
     day holds 20 hours of bars or more (FX, near-24h futures). Such markets do not close for
     exchange holidays.
   * 252 otherwise: daily bars without weekends and intraday exchange sessions.

4. Step of 18 hours or more: daily, one bar per trading day. Shorter: bars per trading day
   (the median count of bars per UTC calendar date that has any) times the days above.

Daily FX bars look like daily stock bars and get 252: pass ``periods_per_year=260`` for them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.errors import SettingsError, TradesweepError

TRADING_DAYS_PER_YEAR = 252
"""Exchange calendar: weekdays less about nine holidays."""

WEEKDAYS_PER_YEAR = 260
"""Round-the-clock weekday markets (FX): 52 weeks of 5 days."""

CALENDAR_DAYS_PER_YEAR = 365
"""Markets that trade every day (crypto)."""


_SATURDAY = 5
_WEEKEND_SHARE = 1 / 14
_ROUND_THE_CLOCK_HOURS = 20


def as_utc_index(index: pd.Index | np.ndarray | list) -> pd.DatetimeIndex:
    """``index`` as a DatetimeIndex in UTC (naive timestamps are taken to be UTC)."""
    idx = pd.DatetimeIndex(index)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def day_clock(index: pd.DatetimeIndex) -> np.ndarray:
    """Calendar days since the first bar, as floats (0.5 is twelve hours)."""
    ticks = index.asi8
    return (ticks - ticks[0]) / _ticks_per_day(index) if ticks.size else np.empty(0)


def _ticks_per_day(index: pd.DatetimeIndex) -> int:
    """Integer ticks of the index's resolution (s, ms, us or ns) in a day."""
    return pd.Timedelta(days=1) // pd.Timedelta(1, unit=index.unit)


def infer_periods_per_year(index: pd.Index | np.ndarray | list) -> float:
    """Bars per year of the data, by the rule in this module's docstring.

    GOOGL daily -> 252, crypto daily -> 365, EURUSD hourly -> 24 x 260 = 6240,
    US equities 1-minute -> 390 x 252 = 98280, weekly -> 52, monthly -> 12.

    Raises:
        TradesweepError: fewer than two distinct timestamps (no step to measure).
    """
    idx = as_utc_index(index)
    ticks, per_day = idx.asi8, _ticks_per_day(idx)
    gaps = np.diff(ticks)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        raise TradesweepError(
            f"cannot infer bars per year from {len(idx)} distinct timestamp(s)",
            fix="pass periods_per_year explicitly, e.g. 252 for daily stock bars",
            setting="periods_per_year",
        )
    step_days = float(np.median(gaps)) / per_day
    for min_days, per_year in ((300, 1.0), (60, 4.0), (25, 12.0), (5, 52.0)):
        if step_days >= min_days:
            return per_year

    trades_weekends = bool(np.mean(idx.day_of_week == _SATURDAY) > _WEEKEND_SHARE)
    if step_days >= 0.75:
        return float(CALENDAR_DAYS_PER_YEAR if trades_weekends else TRADING_DAYS_PER_YEAR)

    bars_per_day = _bars_per_trading_day(ticks // per_day)
    if trades_weekends:
        days = CALENDAR_DAYS_PER_YEAR
    elif bars_per_day * step_days * 24 >= _ROUND_THE_CLOCK_HOURS:
        days = WEEKDAYS_PER_YEAR
    else:
        days = TRADING_DAYS_PER_YEAR
    return float(bars_per_day * days)


def _bars_per_trading_day(dates: np.ndarray) -> int:
    """Median number of bars per UTC calendar date that has bars (partial first and last days,
    and FX's two Sunday-evening bars, do not move the median)."""
    _, counts = np.unique(dates, return_counts=True)
    return max(1, round(float(np.median(counts))))


MAX_PERIODS_PER_YEAR = 31_622_400
"""One bar a second through a leap year (366 x 86,400): the most bars a year can have here."""


def check_periods_per_year(value: Any) -> float | None:
    """``value`` as a float in (0, :data:`MAX_PERIODS_PER_YEAR`]; None stays None (infer)."""
    if value is None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= MAX_PERIODS_PER_YEAR:
        raise SettingsError(
            f"periods_per_year must be a positive number of at most {MAX_PERIODS_PER_YEAR} "
            f"(one bar a second), got {value!r}",
            fix="leave it out to infer it from the timestamps, or give e.g. 252",
            setting="periods_per_year",
        )
    return float(value)


def check_risk_free_rate(value: Any) -> float:
    """``value`` as a float when it is a finite annual fraction above -1."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= -1:
        raise SettingsError(
            f"risk_free_rate must be an annual fraction above -1, got {value!r}",
            fix="give 0.04 for 4 % a year",
            setting="risk_free_rate",
        )
    return float(value)
