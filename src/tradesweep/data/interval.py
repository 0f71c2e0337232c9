"""Bar spacing: infer it from timestamps, name it, and read rule strings users type."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tradesweep.errors import DataError

# Trading convention (as in ccxt): "m" is minutes, "M" months. Anchored periods start a bin.
_UNITS: dict[str, str] = {
    "s": "s",
    "sec": "s",
    "S": "s",
    "m": "min",
    "min": "min",
    "T": "min",
    "t": "min",
    "h": "h",
    "H": "h",
    "d": "D",
    "D": "D",
    "w": "W",
    "W": "W",
    "M": "MS",
    "MS": "MS",
    "ME": "MS",
    "q": "QS",
    "Q": "QS",
    "QS": "QS",
    "QE": "QS",
    "y": "YS",
    "Y": "YS",
    "YS": "YS",
    "YE": "YS",
    "A": "YS",
}
_RULE = re.compile(r"^\s*(\d*)\s*([A-Za-z]+)((?:-[A-Za-z]{3})?)\s*$")


def infer_interval(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The bar interval: the median spacing of the timestamps.

    The median ignores weekend and holiday gaps, so daily equity bars give one day.
    """
    if len(index) < 2:
        raise DataError(
            f"{len(index)} bar(s) cannot show an interval",
            fix="use at least 2 bars",
            rows=len(index),
        )
    steps = np.diff(index.as_unit("ns").asi8)
    return pd.Timedelta(int(np.median(steps)), unit="ns")


_DAY = 86400
_MONTH_DAYS = 365.2425 / 12
_CALENDAR_SLACK_DAYS = 1.5
"""How far a spacing may sit from n average months (or years) and still be n months: calendar
months are 28-31 days long and the median of an even count of them may fall half-way."""


def interval_label(interval: pd.Timedelta) -> str:
    """A short name such as ``1M``, ``1W``, ``1D``, ``4h``, ``15min`` or ``30s`` for a spacing.

    Calendar periods read as such: a spacing near a whole number of years is ``1Y``, near a
    whole number of months (30, 30.5 or 31 days) ``1M``..``11M``, a whole number of weeks
    ``1W``.
    """
    seconds = interval.total_seconds()
    days = seconds / _DAY
    for size, unit, most in ((365.2425, "Y", 1000), (_MONTH_DAYS, "M", 11)):
        count = round(days / size)
        if 1 <= count <= most and abs(days - count * size) <= _CALENDAR_SLACK_DAYS:
            return f"{count}{unit}"
    whole = int(seconds)
    if whole <= 0 or interval != pd.Timedelta(seconds=whole):
        return str(interval)
    for size, unit in ((7 * _DAY, "W"), (_DAY, "D"), (3600, "h"), (60, "min"), (1, "s")):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return str(interval)


def relabel(label: str | None) -> str | None:
    """A label written by an older version (``31D``, ``7D``) in today's spelling."""
    if label is None or not re.fullmatch(r"\d+D", label):
        return label
    return interval_label(pd.Timedelta(label))


def parse_rule(rule: str) -> pd.DateOffset:
    """Read a bar rule such as ``"1h"``, ``"4H"``, ``"15m"``, ``"1d"``, ``"1W"``, ``"1M"``.

    ``m`` means minutes and ``M`` months; months, quarters and years start their period
    (``MS``, ``QS``, ``YS``); ``W`` is pandas' week ending Sunday (``W-MON`` etc. allowed).
    """
    match = _RULE.match(rule)
    unit = match and _UNITS.get(match.group(2))
    if not match or unit is None:
        raise DataError(
            f"unknown bar rule {rule!r}",
            fix="use a number and a unit: s, m/min, h, D, W, M (month), Q, Y, e.g. 4h or 1W",
            rule=rule,
        )
    count = int(match.group(1) or 1)
    if count <= 0:
        raise DataError(f"bar rule {rule!r} must be positive", fix="e.g. 1h", rule=rule)
    anchor = match.group(3).upper() if unit == "W" else ""
    return to_offset(f"{count}{unit}{anchor}")


def rule_span(offset: pd.DateOffset) -> pd.Timedelta:
    """The length of one period of ``offset`` (February for months: at least 28 days)."""
    start = offset.rollback(pd.Timestamp("2001-02-01"))
    return (start + offset) - start
