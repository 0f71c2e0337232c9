"""Checks every bar must pass; each failure is one DataError naming file, row and column."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tradesweep.data.contract import ADJ_CLOSE, BAR_COLUMNS, INDEX_NAME, PRICE_COLUMNS
from tradesweep.data.origin import Origin
from tradesweep.errors import DataError


def validate_bars(df: pd.DataFrame, *, source: str | None = None) -> None:
    """Refuse an in-memory frame that breaks the bars contract.

    Checks the structure (UTC ``DatetimeIndex``, exact float64 columns) and then the same
    row rules as :func:`check_rows`. Rows are reported 1-based with their timestamp.
    """
    name = source or str(df.attrs.get("source") or "bars")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(
            f"{name}: the index is {type(df.index).__name__}, not a DatetimeIndex",
            fix="set a UTC DatetimeIndex named 'timestamp' (or load the data with load_bars)",
            file=name,
        )
    if df.index.tz is None or str(df.index.tz) != "UTC":
        raise DataError(
            f"{name}: the timestamps are in time zone {df.index.tz}, not UTC",
            fix="convert with df.tz_localize('UTC') or df.tz_convert('UTC')",
            file=name,
        )
    expected = [*BAR_COLUMNS, ADJ_CLOSE] if ADJ_CLOSE in df.columns else list(BAR_COLUMNS)
    if list(df.columns) != expected:
        raise DataError(
            f"{name}: columns are {list(df.columns)}, expected {expected}",
            fix="select and order the columns open, high, low, close, volume (+ adj_close)",
            file=name,
        )
    for column in expected:
        if df[column].dtype != np.float64:
            raise DataError(
                f"{name}: column '{column}' is {df[column].dtype}, not float64",
                fix=f"convert it with df['{column}'].astype('float64')",
                file=name,
                column=column,
            )
    origin = Origin(name=name, kind="frame")
    for column in expected:
        values = df[column].to_numpy()
        _refuse_first(
            origin,
            ~np.isfinite(values),
            column,
            "missing or infinite value",
            "fill or remove the row at the source",
            df.index,
        )
    check_rows(df, origin, {c: c for c in expected} | {INDEX_NAME: INDEX_NAME})


def check_rows(df: pd.DataFrame, origin: Origin, headers: Mapping[str, str]) -> None:
    """Order, sign and OHLC consistency, in that order; the first failing row is reported.

    ``df`` holds finite float64 values in file order; ``headers`` maps contract columns to
    the names the user wrote, so messages quote their spelling.
    """
    index = df.index
    _check_order(index, origin, headers[INDEX_NAME])
    for column in PRICE_COLUMNS:
        _refuse_first(
            origin,
            df[column].to_numpy() <= 0,
            headers[column],
            "price must be above 0",
            "correct or remove the row at the source",
            index,
            df[column].to_numpy(),
        )
    _refuse_first(
        origin,
        df["volume"].to_numpy() < 0,
        headers["volume"],
        "volume must not be negative",
        "correct the row at the source (use 0 when volume is unknown)",
        index,
        df["volume"].to_numpy(),
    )
    open_, high, low, close = (df[c].to_numpy() for c in PRICE_COLUMNS)
    _refuse_first(
        origin,
        high < np.maximum(open_, close),
        headers["high"],
        "high is below max(open, close)",
        "correct high (or swap it with low) at the source",
        index,
        high,
    )
    _refuse_first(
        origin,
        low > np.minimum(open_, close),
        headers["low"],
        "low is above min(open, close)",
        "correct low (or swap it with high) at the source",
        index,
        low,
    )


def _check_order(index: pd.DatetimeIndex, origin: Origin, header: str) -> None:
    stamps = index.asi8
    steps = np.diff(stamps)
    bad = np.flatnonzero(steps <= 0)
    if bad.size == 0:
        return
    position = int(bad[0]) + 1
    current, previous = index[position], index[position - 1]
    if steps[bad[0]] == 0:
        text = f"duplicate timestamp {current} (same as the row before)"
        fix = "remove the duplicate row at the source"
    else:
        text = f"timestamp {current} is earlier than the row before ({previous})"
        fix = "sort the file by time, oldest first"
    message, details = origin.problem(
        position, header, text, others=int(bad.size) - 1, timestamp=current
    )
    raise DataError(message, fix=fix, **details)


def _refuse_first(
    origin: Origin,
    mask: np.ndarray,
    header: str,
    text: str,
    fix: str,
    index: pd.DatetimeIndex,
    values: np.ndarray | None = None,
) -> None:
    bad = np.flatnonzero(mask)
    if bad.size == 0:
        return
    position = int(bad[0])
    if values is not None:
        text = f"{text} (value {float(values[position])!r})"
    message, details = origin.problem(
        position, header, text, others=int(bad.size) - 1, timestamp=index[position]
    )
    raise DataError(message, fix=fix, **details)
