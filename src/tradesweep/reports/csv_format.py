"""How every CSV the tool writes spells its values (the CLI's ``--csv``, ``--equity-csv``,
``--trades-csv`` and the API's ``/results?format=csv``), so one reader reads them all:

* timestamps: ISO 8601 in UTC with its offset, ``2024-01-02T00:00:00+00:00``
  (``pd.Timestamp.isoformat()``, as the API's JSON writes them too), index or column alike;
* whole numbers as whole numbers: the ``count`` metrics of the metric table (``bars``,
  ``total_trades``, ...), ``rank`` and ``grid_index``, and integer parameters, never
  ``34.0``; an undefined one is an empty cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.metrics.table import METRICS

INTEGER_COLUMNS: frozenset[str] = frozenset(
    {"rank", "grid_index", "bars_held", "entry_idx", "exit_idx"}
    | {m.key for m in METRICS if m.unit == "count"}
)
"""Columns that hold whole numbers wherever they appear; parameters add their own
(:func:`csv_frame`'s ``integers``)."""


def csv_timestamp(value: Any) -> str:
    """``2024-01-02T00:00:00+00:00``: a timestamp (naive ones are UTC) in the CSVs' format."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat()


def csv_cell(name: str, value: Any) -> Any:
    """One value of a row written with :mod:`csv`: timestamps as :func:`csv_timestamp`, whole
    numbers of :data:`INTEGER_COLUMNS` as ints."""
    if isinstance(value, datetime | np.datetime64):
        return csv_timestamp(value)
    if name in INTEGER_COLUMNS and isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else value
    return value


def csv_frame(frame: pd.DataFrame, *, integers: Iterable[str] = ()) -> pd.DataFrame:
    """A copy of ``frame`` to write with ``to_csv``: datetime index and columns as
    :func:`csv_timestamp` text, and the columns of :data:`INTEGER_COLUMNS` and ``integers``
    (integer parameters) as nullable integers when every value in them is whole."""
    out = frame.copy()
    if isinstance(out.index, pd.DatetimeIndex):
        out.index = pd.Index(_timestamps(out.index), name=out.index.name)
    whole = INTEGER_COLUMNS | set(integers)
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            column.dtype
        ):
            out[name] = _timestamps(pd.DatetimeIndex(column))
        elif name in whole and pd.api.types.is_float_dtype(column.dtype):
            values = column.dropna()
            if bool(np.all(np.mod(values.to_numpy(), 1) == 0)):
                out[name] = column.astype("Int64")
    return out


def _timestamps(index: pd.DatetimeIndex) -> list[str]:
    utc = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    return ["" if pd.isna(t) else t.isoformat() for t in utc]
