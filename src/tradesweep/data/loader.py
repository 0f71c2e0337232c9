"""Read OHLCV files (CSV, Parquet) into bars that follow the contract, or refuse them."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tradesweep.data.contract import ADJ_CLOSE, BAR_COLUMNS, INDEX_NAME, ColumnMap, match_columns
from tradesweep.data.origin import Origin, OriginKind
from tradesweep.data.timestamps import parse_timestamps
from tradesweep.data.validate import check_rows
from tradesweep.errors import DataError

_MISSING = frozenset({"", "nan", "na", "n/a", "#n/a", "null", "none", "-"})
_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".csv.zip", ".csv.bz2", ".csv.xz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def load_bars(
    path: str | os.PathLike[str], *, ticker: str | None = None, min_bars: int | None = None
) -> pd.DataFrame:
    """Load OHLCV bars from a CSV or Parquet file, validated and in the bars contract.

    Headers are matched case-insensitively (``Open``/``o``, ``Close``/``c``/``Last``,
    ``Volume``/``vol``/``v``, ``Adj Close``/``adj_close``; the time from ``Date``, ``Time``,
    ``Datetime``, ``timestamp``, ``date_time``, a ``Date`` + ``Time`` pair, a Parquet
    ``DatetimeIndex``, or an unnamed first column as ``df.to_csv()`` writes it); other columns
    are ignored. Times may be ISO 8601 (naive = UTC), day-first ``01.01.2017 22:00:00.000``,
    or epoch s/ms/us/ns (told apart by magnitude).

    A volume column is required: files without one are refused (add a column of 0 if the
    source has no volume), so a missing volume is never mistaken for a quiet market.
    Rows are never dropped or reordered: unsorted or duplicate times, empty or non-numeric
    cells, non-positive prices, negative volume, ``high < max(open, close)``,
    ``low > min(open, close)`` and fewer than ``min_bars`` rows each raise one
    :class:`DataError` naming the file, the first bad row (CSV: file line, header = line 1)
    and the column. Blank lines at the very end of a CSV are not data and are skipped.
    """
    file = Path(path)
    name = str(path)
    kind = _kind(file, name)
    if not file.is_file():
        raise DataError(
            f"{name}: no such file",
            fix="check the path; relative paths start from the current directory",
            file=name,
        )
    raw = _read_csv(file, name) if kind == "csv" else _read_parquet(file, name)
    time_index = isinstance(raw.index, pd.DatetimeIndex)
    if not time_index and raw.index.name is not None:
        raw = raw.reset_index()
    columns = match_columns(raw.columns, file=name, has_time_index=time_index)
    if len(raw) == 0:
        raise DataError(f"{name}: no data rows", fix="the file has a header only", file=name)
    bars = _normalise(raw, columns, Origin(name=name, kind=kind), time_index)
    if min_bars is not None and len(bars) < min_bars:
        raise DataError(
            f"{name}: {len(bars)} bars, fewer than the {min_bars} required",
            fix="use a longer history or ask for fewer bars",
            file=name,
            rows=len(bars),
            min_bars=min_bars,
        )
    bars.attrs = {"ticker": ticker, "source": name, "synthetic": False}
    return bars


def _kind(file: Path, name: str) -> OriginKind:
    lower = file.name.lower()
    if lower.endswith(_CSV_SUFFIXES):
        return "csv"
    if lower.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    raise DataError(
        f"{name}: unsupported file type '{file.suffix}'",
        fix="use a .csv or .parquet file",
        file=name,
    )


def _read_csv(file: Path, name: str) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # A first row longer than the header would otherwise shift columns silently.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(
                file,
                sep=_separator(file),
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                skipinitialspace=True,
                index_col=False,
            )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name}: the file is empty", fix="export the data again", file=name
        ) from None
    except pd.errors.ParserWarning:
        raise DataError(
            f"{name}: line 2 (header is line 1) has more fields than the header",
            fix="remove the extra fields or name every column in the header",
            file=name,
            line=2,
            row=1,
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        detail = " ".join(str(exc).split())
        raise DataError(
            f"{name}: not a readable CSV ({detail}; the header is line 1)",
            fix="check that every line has the same number of comma-separated fields",
            file=name,
        ) from None
    blank = (raw == "").all(axis=1).to_numpy()
    end = len(raw)
    while end and blank[end - 1]:
        end -= 1
    return raw.iloc[:end]


def _separator(file: Path) -> str:
    if file.name.lower().endswith((".gz", ".zip", ".bz2", ".xz")):
        return ","
    with file.open("r", encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    if "," not in header:
        for candidate in (";", "\t", "|"):
            if candidate in header:
                return candidate
    return ","


def _read_parquet(file: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise DataError(
            f"{name}: not a readable Parquet file ({type(exc).__name__}: {exc})".replace("\n", " "),
            fix="write it again with DataFrame.to_parquet",
            file=name,
        ) from None


def _normalise(
    raw: pd.DataFrame, columns: ColumnMap, origin: Origin, time_index: bool
) -> pd.DataFrame:
    if time_index:
        header = str(raw.index.name or "index")
        index = parse_timestamps(raw.index.to_series(index=range(len(raw))), origin, header)
    else:
        header = columns.original("timestamp")
        stamps = raw[columns.timestamp[0]]
        if len(columns.timestamp) == 2:
            stamps = (
                stamps.astype("string").str.strip()
                + " "
                + raw[columns.timestamp[1]].astype("string").str.strip()
            )
        index = parse_timestamps(stamps.reset_index(drop=True), origin, header)
    wanted = [*BAR_COLUMNS, *([ADJ_CLOSE] if ADJ_CLOSE in columns.columns else [])]
    values = _numbers(raw, columns, wanted, origin)
    bars = pd.DataFrame(values, index=index, columns=wanted)
    check_rows(bars, origin, {c: columns.original(c) for c in wanted} | {INDEX_NAME: header})
    return bars


def _numbers(
    raw: pd.DataFrame, columns: ColumnMap, wanted: list[str], origin: Origin
) -> dict[str, np.ndarray]:
    """Each wanted column as float64; the earliest bad cell across columns is refused."""
    values: dict[str, np.ndarray] = {}
    problems: list[tuple[int, int, str, str, int]] = []
    for order, column in enumerate(wanted):
        header = columns.original(column)
        series = raw[header]
        if pd.api.types.is_numeric_dtype(series.dtype) and series.dtype != bool:
            numbers = series.to_numpy(dtype="float64", na_value=np.nan)
            missing = np.isnan(numbers)
            text = series.astype("string")
        else:
            text = series.astype("string").str.strip()
            missing = text.isna().to_numpy() | text.str.lower().isin(_MISSING).to_numpy()
            numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
        bad = ~np.isfinite(numbers) & ~missing
        first_missing = np.flatnonzero(missing)
        first_bad = np.flatnonzero(bad)
        if first_missing.size:
            shown = text.iloc[int(first_missing[0])]
            label = "empty cell" if pd.isna(shown) or shown == "" else f"missing value {shown!r}"
            problems.append((int(first_missing[0]), order, header, label, int(first_missing.size)))
        if first_bad.size:
            shown = text.iloc[int(first_bad[0])]
            problems.append(
                (
                    int(first_bad[0]),
                    order,
                    header,
                    f"{shown!r} is not a finite number",
                    int(first_bad.size),
                )
            )
        values[column] = numbers
    if problems:
        position, _, header, text, count = min(problems)
        message, details = origin.problem(position, header, text, others=count - 1)
        raise DataError(
            message,
            fix="write a plain number such as 1234.5 (dot decimal, no thousands separator), "
            "or remove the row at the source",
            **details,
        )
    return values
