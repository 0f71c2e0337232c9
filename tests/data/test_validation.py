"""Bad data is refused with one DataError naming the file, the row and the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import load_bars, synthetic_bars, validate_bars
from tradesweep.errors import DataError

WriteCsv = Callable[..., Path]


def _edit(rows: list[str], index: int, column: int, value: str) -> list[str]:
    cells = rows[index].split(",")
    cells[column] = value
    return [*rows[:index], ",".join(cells), *rows[index + 1 :]]


def _refusal(path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        load_bars(path)
    error = info.value
    assert str(path) in str(error)
    assert error.details["file"] == str(path)
    return error


# (name, edit of the six good rows, line (header = line 1), column, words in the message)
CASES: list[tuple[str, Callable[[list[str]], list[str]], int, str, str]] = [
    ("shuffled", lambda r: [r[0], r[1], r[3], r[2], r[4], r[5]], 5, "Date", "earlier than"),
    ("duplicate", lambda r: _edit(r, 3, 0, "2020-01-03"), 5, "Date", "duplicate timestamp"),
    ("empty cell", lambda r: _edit(r, 1, 4, ""), 3, "Close", "empty cell"),
    ("NaN", lambda r: _edit(r, 2, 2, "NaN"), 4, "High", "missing value 'NaN'"),
    ("text", lambda r: _edit(r, 4, 4, "abc"), 6, "Close", "'abc' is not a finite number"),
    ("inf", lambda r: _edit(r, 4, 5, "inf"), 6, "Volume", "'inf' is not a finite number"),
    ("bad date", lambda r: _edit(r, 2, 0, "2020-13-45"), 4, "Date", "'2020-13-45' is not a date"),
    ("no date", lambda r: _edit(r, 5, 0, ""), 7, "Date", "empty date/time"),
    ("high below", lambda r: _edit(r, 1, 2, "11.4"), 3, "High", "high is below max(open, close)"),
    ("low above", lambda r: _edit(r, 2, 3, "11.1"), 4, "Low", "low is above min(open, close)"),
    ("negative price", lambda r: _edit(r, 0, 1, "-10"), 2, "Open", "price must be above 0"),
    ("zero price", lambda r: _edit(r, 3, 3, "0"), 5, "Low", "price must be above 0"),
    ("negative volume", lambda r: _edit(r, 5, 5, "-1"), 7, "Volume", "volume must not be negative"),
]


@pytest.mark.parametrize(
    ("name", "edit", "line", "column", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_csv_names_line_and_column(
    write_csv: WriteCsv,
    good_rows: list[str],
    name: str,
    edit: Callable[[list[str]], list[str]],
    line: int,
    column: str,
    words: str,
) -> None:
    error = _refusal(write_csv(edit(good_rows)))
    assert f"line {line} (header is line 1)" in error.message
    assert f"column '{column}'" in error.message
    assert words in error.message
    assert error.fix
    assert error.details["line"] == line
    assert error.details["row"] == line - 1
    assert error.details["column"] == column


def test_earliest_bad_cell_wins_and_others_are_counted(
    write_csv: WriteCsv, good_rows: list[str]
) -> None:
    rows = _edit(_edit(_edit(good_rows, 4, 1, "x"), 2, 4, "y"), 5, 4, "z")
    error = _refusal(write_csv(rows))
    assert "line 4 (header is line 1), column 'Close': 'y'" in error.message
    assert "1 more row(s)" in error.message


def test_missing_column_lists_found_and_accepted(write_csv: WriteCsv, good_rows: list[str]) -> None:
    rows = [row.rsplit(",", 1)[0] for row in good_rows]
    error = _refusal(write_csv(rows, header="Date,Open,High,Low,Close"))
    assert "missing required column(s) volume" in error.message
    assert "found 'Date', 'Open', 'High', 'Low', 'Close'" in error.message
    assert "volume/vol/v" in str(error)
    assert "column of 0" in str(error)
    assert error.details["column"] == "volume"


def test_missing_date_column(write_csv: WriteCsv, good_rows: list[str]) -> None:
    rows = [row.split(",", 1)[1] for row in good_rows]
    error = _refusal(write_csv(rows, header="Open,High,Low,Close,Volume"))
    assert "missing required column(s) timestamp" in error.message


def test_ambiguous_columns(write_csv: WriteCsv, good_rows: list[str]) -> None:
    rows = [f"{row},1" for row in good_rows]
    error = _refusal(write_csv(rows, header="Date,Open,High,Low,Close,Volume,Last"))
    assert "'Close', 'Last' all mean 'close'" in error.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "the file is empty"),
        ("Date,Open,High,Low,Close,Volume\n", "no data rows"),
        ("Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10,99\n", "line 2"),
        (
            "Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,1.5,10,9\n",
            "in line 3",
        ),
    ],
)
def test_unreadable_csv(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert words in _refusal(path).message


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_bars(tmp_path / "absent.csv")
    other = tmp_path / "bars.xlsx"
    other.write_bytes(b"x")
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'"):
        load_bars(other)


def test_damaged_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 not really")
    assert "not a readable Parquet file" in _refusal(path).message


def test_parquet_rows_are_counted_from_one(tmp_path: Path) -> None:
    bars = synthetic_bars(10, seed=2).reset_index()
    bars.loc[6, "close"] = np.nan
    path = tmp_path / "gap.parquet"
    bars.to_parquet(path)
    error = _refusal(path)
    assert "row 7 (first data row is row 1), column 'close': empty cell" in error.message
    assert error.details["row"] == 7


class TestFrames:
    """validate_bars on in-memory frames (register_frame, resample results)."""

    def test_good_frame_passes(self) -> None:
        validate_bars(synthetic_bars(100))

    def test_naive_index_is_refused(self) -> None:
        with pytest.raises(DataError, match="not UTC"):
            validate_bars(synthetic_bars(10).tz_localize(None))

    def test_wrong_columns_and_dtypes(self) -> None:
        bars = synthetic_bars(10)
        with pytest.raises(DataError, match="expected"):
            validate_bars(bars[["close", "open", "high", "low", "volume"]])
        with pytest.raises(DataError, match="'volume' is int64, not float64"):
            validate_bars(bars.astype({"volume": "int64"}))
        with pytest.raises(DataError, match="not a DatetimeIndex"):
            validate_bars(bars.reset_index())

    def test_rows_are_named_with_their_timestamp(self) -> None:
        bars = synthetic_bars(10)
        bars.iloc[4, bars.columns.get_loc("high")] = 1.0
        with pytest.raises(DataError) as info:
            validate_bars(bars, source="mine")
        assert info.value.message.startswith(
            f"mine: row 5 (first data row is row 1) at {bars.index[4]}"
        )
        assert info.value.details == {"file": "mine", "row": 5, "column": "high"}

    def test_unsorted_frame(self) -> None:
        bars = synthetic_bars(10)
        with pytest.raises(DataError, match=r"row 5 .* earlier than"):
            validate_bars(bars.iloc[[0, 1, 2, 4, 3, 5]])

    def test_nan_in_frame(self) -> None:
        bars = synthetic_bars(10)
        bars.iloc[2, 0] = np.nan
        with pytest.raises(DataError, match=r"row 3 .*'open': missing or infinite"):
            validate_bars(bars)


def test_rows_are_never_dropped_or_reordered(write_csv: WriteCsv, good_rows: list[str]) -> None:
    bars = load_bars(write_csv())
    assert [ts.strftime("%Y-%m-%d") for ts in bars.index] == [r.split(",")[0] for r in good_rows]
    assert bars.index.is_monotonic_increasing
    assert isinstance(bars.index, pd.DatetimeIndex)
