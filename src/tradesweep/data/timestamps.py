"""Turn a column of dates as users write them into UTC timestamps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradesweep.data.contract import TIME_UNIT
from tradesweep.data.origin import Origin
from tradesweep.errors import DataError

# Tried in order after ISO 8601; dotted dates are day-first (European/Dukascopy style).
_DAY_FIRST = (
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
_SLASHED = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "")
_FIX = (
    "write dates as ISO 8601 (2017-01-01 or 2017-01-01 22:00:00, optionally with +02:00), "
    "day-first 01.01.2017 22:00:00.000, or epoch seconds/milliseconds"
)
_EPOCH = r"-?\d+(\.\d*)?([eE][+-]?\d+)?"
_NS_PER_UNIT = {"s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1.0}
_MAX_NS = 9.2e18
"""Nanoseconds from 1970 a timestamp may be (about 2261-07-09; int64 ends at 9.22e18)."""


def parse_timestamps(values: pd.Series, origin: Origin, header: str) -> pd.DatetimeIndex:
    """Parse dates, datetimes or epoch numbers into a UTC ``DatetimeIndex``.

    Naive times are taken as UTC, offsets are converted. Integers are epoch seconds,
    milliseconds, microseconds or nanoseconds, told apart by magnitude; eight-digit
    integers are ``YYYYMMDD``. Slash dates are accepted only when day-first and month-first
    cannot both read the column.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.to_datetime(values, utc=True)
        _refuse_missing(parsed.isna(), origin, header)
        return _index(parsed)
    if pd.api.types.is_numeric_dtype(values.dtype):
        _refuse_missing(values.isna(), origin, header)
        numbers = values.astype("float64")
        return _index(_from_epoch(numbers, values.astype("string"), origin, header))
    text = values.astype("string").str.strip()
    _refuse_missing(text.isna() | (text == ""), origin, header)
    if bool(text.str.fullmatch(_EPOCH).all()):
        numbers = pd.to_numeric(text).astype("float64")
        return _index(_from_epoch(numbers, text, origin, header))
    parsed = _best_format(text, origin, header)
    return _index(parsed)


def _from_epoch(numbers: pd.Series, text: pd.Series, origin: Origin, header: str) -> pd.Series:
    if bool(text.str.fullmatch(r"(19|20)\d{6}").all()):
        return pd.to_datetime(text, format="%Y%m%d", utc=True)
    numbers = numbers.reset_index(drop=True)
    magnitude = float(numbers.abs().max())
    unit = (
        "s"
        if magnitude < 1e11
        else "ms"
        if magnitude < 1e14
        else "us"
        if magnitude < 1e17
        else "ns"
    )
    outside = ~(numbers.abs() * _NS_PER_UNIT[unit] <= _MAX_NS)  # NaN and inf included
    if bool(outside.any()):
        position = int(np.flatnonzero(outside.to_numpy())[0])
        message, details = origin.problem(
            position,
            header,
            f"{text.iloc[position]!r} is outside the epoch range (years 1677 to 2261; read "
            f"as {_UNIT_NAMES[unit]} from the column's largest number)",
            others=int(outside.sum()) - 1,
        )
        raise DataError(message, fix=_FIX, **details)
    return pd.to_datetime(numbers, unit=unit, utc=True)


_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def _best_format(text: pd.Series, origin: Origin, header: str) -> pd.Series:
    iso = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    if not iso.isna().any():
        return iso
    candidates: list[tuple[str, pd.Series]] = [("ISO8601", iso)]
    for fmt in _DAY_FIRST:
        candidates.append((fmt, pd.to_datetime(text, format=fmt, utc=True, errors="coerce")))
    if text.str.contains("/", regex=False).any():
        for time in _SLASHED:
            for day in ("%d/%m/%Y", "%m/%d/%Y"):
                fmt = f"{day} {time}".strip()
                candidates.append(
                    (fmt, pd.to_datetime(text, format=fmt, utc=True, errors="coerce"))
                )
    complete = [fmt for fmt, parsed in candidates if not parsed.isna().any()]
    if any(f.startswith("%d/") for f in complete) and any(f.startswith("%m/") for f in complete):
        raise DataError(
            f"{origin.name}: column '{header}' has dates like {text.iloc[0]!r} that read as "
            "both day-first and month-first",
            fix="write dates as ISO 8601 (YYYY-MM-DD)",
            file=origin.name,
            column=header,
        )
    best_format, best = max(candidates, key=lambda c: int(c[1].notna().sum()))
    failed = np.flatnonzero(best.isna().to_numpy())
    if failed.size == 0:
        return best
    position = int(failed[0])
    shown = "" if best.notna().sum() == 0 else f" (other rows read as {best_format})"
    message, details = origin.problem(
        position,
        header,
        f"{text.iloc[position]!r} is not a date/time{shown}",
        others=int(failed.size) - 1,
    )
    raise DataError(message, fix=_FIX, **details)


def _refuse_missing(missing: pd.Series, origin: Origin, header: str) -> None:
    gaps = np.flatnonzero(missing.to_numpy(dtype=bool))
    if gaps.size:
        message, details = origin.problem(
            int(gaps[0]), header, "empty date/time", others=int(gaps.size) - 1
        )
        raise DataError(message, fix="fill in the date or remove the row", **details)


def _index(parsed: pd.Series) -> pd.DatetimeIndex:
    index = pd.DatetimeIndex(parsed).as_unit(TIME_UNIT)
    return index.rename("timestamp")
