"""A window of bars: the bars between two bounds (both inclusive), resampled to a timeframe.

Bounds are ISO texts in UTC: a day (``2024-02-01``: the whole day), a month (``2024-02``) or an
instant (``2024-02-07T23:59:59Z``). The backtest and sweep specs carry them as ``start``,
``end`` and ``timeframe``; each spec passes its own error class so a bad window names the
spec's field.
"""

from __future__ import annotations

import pandas as pd

from tradesweep.data.interval import parse_rule
from tradesweep.data.resample import resample_bars
from tradesweep.errors import DataError, TradesweepError


def check_window(
    timeframe: str | None,
    start: str | None,
    end: str | None,
    *,
    error: type[TradesweepError] = DataError,
) -> None:
    """Raise ``error`` naming the field when the timeframe is not a bar interval, a bound is
    not an ISO date or timestamp, or ``start`` is after ``end``."""
    if timeframe is not None:
        try:
            if not isinstance(timeframe, str):
                raise DataError(f"not a string: {timeframe!r}")
            parse_rule(timeframe)
        except TradesweepError as exc:
            raise error(
                f"spec field 'timeframe' {timeframe!r} is not a bar interval ({exc.message})",
                fix="e.g. 1h, 4h, 1d, 1w",
                field="timeframe",
            ) from None
    bounds = {}
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            stamp = pd.Timestamp(value)
            bounds[name] = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        except (TypeError, ValueError):
            raise error(
                f"spec field '{name}' must be an ISO date or timestamp, got {value!r}",
                fix="e.g. 2020-01-31",
                field=name,
            ) from None
    if len(bounds) == 2 and bounds["start"] > bounds["end"]:
        raise error(
            f"start {start} is after end {end}",
            fix="give start on or before end",
            field="start",
        )


def window_bars(
    bars: pd.DataFrame,
    data: str,
    timeframe: str | None,
    start: str | None,
    end: str | None,
    *,
    error: type[TradesweepError] = DataError,
) -> pd.DataFrame:
    """The bars between ``start`` and ``end`` (inclusive), resampled to ``timeframe``; the bars
    unchanged when none is set. ``error`` (naming ``start`` or ``end``) when none is left."""
    if start is not None or end is not None:
        bars = bars.loc[_bound(start, end, end=False) : _bound(end, start, end=True)]
        if bars.empty:
            raise error(
                f"{data} has no bars between {start or 'its start'} and {end or 'its end'}",
                fix="choose dates inside the data's range",
                field="start" if start is not None else "end",
            )
    if timeframe is not None:
        bars = resample_bars(bars, timeframe)
    return bars


def _bound(value: str | None, other: str | None, *, end: bool) -> str | pd.Timestamp | None:
    """A bound for ``bars.loc``: the text itself (pandas reads a day, a month, ... as the whole
    period) unless one of the two bounds carries a UTC offset, when pandas refuses to mix
    them: then :func:`bound_instant`."""
    if value is None or not any(_has_offset(v) for v in (value, other) if v is not None):
        return value
    return bound_instant(value, end=end)


def bound_instant(value: str, *, end: bool) -> pd.Timestamp:
    """The instant in UTC a bound admits first (``end=False``) or last (``end=True``): an
    instant itself, a day its midnight or (an end) its last nanosecond."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if end and len(value.strip()) == 10:  # a day: up to its last instant
        stamp += pd.Timedelta(days=1) - pd.Timedelta(1)
    return stamp


def _has_offset(value: str) -> bool:
    return pd.Timestamp(value).tzinfo is not None
