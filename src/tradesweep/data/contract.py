"""The bars contract and the header spellings that map onto it.

Bars are a DataFrame with a UTC ``DatetimeIndex`` named ``timestamp`` (nanosecond unit,
sorted, unique) and float64 columns ``open, high, low, close, volume`` in that order, plus
``adj_close`` only when the source had one. ``attrs`` carries ``ticker``, ``source`` and
``synthetic``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tradesweep.errors import DataError

INDEX_NAME = "timestamp"
BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
ADJ_CLOSE = "adj_close"
TIME_UNIT = "ns"

# Keys are headers lower-cased with everything but letters and digits removed.
ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "date", "time", "datetime", "gmttime", "localtime", "ts"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
    "adj_close": ("adjclose", "adjustedclose", "adjcloseprice"),
}
REQUIRED: tuple[str, ...] = ("timestamp", *BAR_COLUMNS)
UNNAMED_FIRST = ("", "Unnamed: 0")
"""An empty first header, as ``DataFrame.to_csv()`` writes an unnamed index (pandas reads it
back as ``Unnamed: 0``): that column is the time when no other column is."""


def header_key(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


@dataclass(frozen=True)
class ColumnMap:
    """Which source header feeds each contract column (``timestamp`` may be two headers)."""

    columns: dict[str, str]
    timestamp: tuple[str, ...]

    def original(self, column: str) -> str:
        if column == "timestamp":
            return " + ".join(self.timestamp)
        return self.columns[column]


def match_columns(headers: Iterable[object], *, file: str, has_time_index: bool) -> ColumnMap:
    """Map source headers onto the contract, refusing missing or ambiguous columns.

    A separate ``Date`` and ``Time`` pair is combined into one timestamp. Unknown columns
    are ignored. ``has_time_index`` means a Parquet ``DatetimeIndex`` supplies the time.
    With no time header, an unnamed first column (``df.to_csv()``'s index) is the time.
    """
    names = [str(h) for h in headers]
    found: dict[str, list[str]] = {}
    for header in names:
        key = header_key(header)
        for column, aliases in ALIASES.items():
            if key in aliases:
                found.setdefault(column, []).append(header)
    if "timestamp" not in found and not has_time_index and names and names[0] in UNNAMED_FIRST:
        found["timestamp"] = [names[0]]
    columns: dict[str, str] = {}
    for column, candidates in found.items():
        if column == "timestamp":
            continue
        if len(candidates) > 1:
            raise DataError(
                f"{file}: columns {', '.join(map(repr, candidates))} all mean '{column}'",
                fix="keep one of them or rename the others",
                file=file,
                column=column,
            )
        columns[column] = candidates[0]
    timestamp = _timestamp_headers(found.get("timestamp", []), file, has_time_index)
    missing = [c for c in REQUIRED if c not in columns and not (c == "timestamp" and timestamp)]
    if has_time_index and "timestamp" in missing:
        missing.remove("timestamp")
    if missing:
        accepted = "; ".join(f"{c}: {'/'.join(ALIASES[c])}" for c in missing)
        fix = (
            f"add or rename the column(s); accepted names (any case, spaces/_ ignored): {accepted}"
        )
        if "volume" in missing:
            fix += "; with no volume data add a volume column of 0"
        raise DataError(
            f"{file}: missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(map(repr, names)) or 'no columns'}",
            fix=fix,
            file=file,
            column=missing[0],
            found=names,
        )
    return ColumnMap(columns=columns, timestamp=timestamp)


def _timestamp_headers(names: list[str], file: str, has_time_index: bool) -> tuple[str, ...]:
    if has_time_index or not names:
        return ()
    if len(names) == 1:
        return (names[0],)
    keys = {header_key(n): n for n in names}
    if set(keys) == {"date", "time"}:
        return (keys["date"], keys["time"])
    raise DataError(
        f"{file}: columns {', '.join(map(repr, names))} all look like the timestamp",
        fix="keep one date/time column (or a 'Date' and a 'Time' pair)",
        file=file,
        column="timestamp",
    )
