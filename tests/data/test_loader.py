"""load_bars accepts the usual spellings and formats and normalises them to the contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import BAR_COLUMNS, load, load_bars, synthetic_bars, validate_bars
from tradesweep.errors import DataError

WriteCsv = Callable[..., Path]

FIRST_DAYS = pd.DatetimeIndex(
    ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"],
    tz="UTC",
)


def test_good_file_follows_the_contract(write_csv: WriteCsv) -> None:
    path = write_csv()
    bars = load_bars(path, ticker="ABC")
    validate_bars(bars)
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert bars.index.equals(FIRST_DAYS.as_unit("ns").rename("timestamp"))
    assert bars["close"].tolist() == [10.5, 11.5, 11.0, 10.2, 10.8, 11.4]
    assert bars.attrs == {"ticker": "ABC", "source": str(path), "synthetic": False}


@pytest.mark.parametrize(
    "header",
    [
        "date,open,high,low,close,volume",
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
        "timestamp,o,h,l,c,v",
        "Datetime,Open,High,Low,Last,Vol",
        "date_time, Open , High , Low , Close , Volume ",
        "Time,O,H,L,C,V",
    ],
)
def test_header_spellings(write_csv: WriteCsv, header: str) -> None:
    bars = load_bars(write_csv(header=header))
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert bars["volume"].iloc[0] == 1000.0


@pytest.mark.parametrize("adj", ["Adj Close", "adj_close", "AdjClose", "Adj. Close"])
def test_adj_close_is_kept_aside_last(write_csv: WriteCsv, adj: str, good_rows: list[str]) -> None:
    rows = [f"{row},{float(row.split(',')[4]) * 0.5}" for row in good_rows]
    bars = load_bars(write_csv(rows, header=f"Date,Open,High,Low,Close,Volume,{adj}"))
    assert list(bars.columns) == [*BAR_COLUMNS, "adj_close"]
    assert bars["adj_close"].iloc[0] == 5.25


def test_extra_columns_are_ignored(write_csv: WriteCsv, good_rows: list[str]) -> None:
    rows = [f"XYZ,{row},7" for row in good_rows]
    bars = load_bars(write_csv(rows, header="Symbol,Date,Open,High,Low,Close,Volume,Trades"))
    assert list(bars.columns) == list(BAR_COLUMNS)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("2020-01-01", "2020-01-02", ["2020-01-01 00:00", "2020-01-02 00:00"]),
        ("2020-01-01 09:30:00", "2020-01-01T10:30:00", ["2020-01-01 09:30", "2020-01-01 10:30"]),
        (
            "2020-01-01 09:30+02:00",
            "2020-01-01T10:30:00Z",
            ["2020-01-01 07:30", "2020-01-01 10:30"],
        ),
        (
            "01.01.2017 22:00:00.000",
            "01.01.2017 23:00:00.000",
            ["2017-01-01 22:00", "2017-01-01 23:00"],
        ),
        ("13.01.2017", "14.01.2017", ["2017-01-13", "2017-01-14"]),
        ("1577836800", "1577840400", ["2020-01-01 00:00", "2020-01-01 01:00"]),
        ("1577836800000", "1577840400000", ["2020-01-01 00:00", "2020-01-01 01:00"]),
        ("20200101", "20200102", ["2020-01-01", "2020-01-02"]),
        ("13/01/2020", "14/01/2020", ["2020-01-13", "2020-01-14"]),
        ("01/13/2020", "01/14/2020", ["2020-01-13", "2020-01-14"]),
    ],
)
def test_timestamp_formats(
    write_csv: WriteCsv, first: str, second: str, expected: list[str]
) -> None:
    rows = [f"{first},1,2,0.5,1.5,10", f"{second},1,2,0.5,1.5,10"]
    bars = load_bars(write_csv(rows))
    assert bars.index.equals(pd.DatetimeIndex(expected, tz="UTC").as_unit("ns").rename("timestamp"))


def test_date_and_time_columns_are_combined(write_csv: WriteCsv) -> None:
    rows = ["2020-01-02,00:00,1,2,0.5,1.5,10", "2020-01-02,01:00,1,2,0.5,1.5,10"]
    bars = load_bars(write_csv(rows, header="Date,Time,Open,High,Low,Close,Volume"))
    assert bars.index[1] == pd.Timestamp("2020-01-02 01:00", tz="UTC")


def test_ambiguous_slash_dates_are_refused(write_csv: WriteCsv) -> None:
    rows = ["01/02/2020,1,2,0.5,1.5,10", "01/03/2020,1,2,0.5,1.5,10"]
    with pytest.raises(DataError, match="both day-first and month-first"):
        load_bars(write_csv(rows))


def test_semicolon_separated_file(write_csv: WriteCsv, good_rows: list[str]) -> None:
    rows = [row.replace(",", ";") for row in good_rows]
    bars = load_bars(write_csv(rows, header="Date;Open;High;Low;Close;Volume"))
    assert len(bars) == len(good_rows)


def test_trailing_blank_lines_are_not_data(write_csv: WriteCsv, good_rows: list[str]) -> None:
    bars = load_bars(write_csv([*good_rows, "", ""]))
    assert len(bars) == len(good_rows)


def test_parquet_round_trip(tmp_path: Path) -> None:
    bars = synthetic_bars(500, seed=3, interval="1h")
    path = tmp_path / "syn.parquet"
    bars.to_parquet(path)
    loaded = load_bars(path, ticker="SYN")
    pd.testing.assert_frame_equal(loaded, bars, check_freq=False)
    assert loaded.attrs == {"ticker": "SYN", "source": str(path), "synthetic": False}


def test_parquet_naive_index_and_column_layouts(tmp_path: Path) -> None:
    bars = synthetic_bars(50, seed=1)
    naive = bars.tz_localize(None)
    naive.to_parquet(tmp_path / "naive.parquet")
    by_column = bars.reset_index().rename(columns={"timestamp": "Date", "close": "Close"})
    by_column.to_parquet(tmp_path / "column.parquet")
    epoch = bars.reset_index()
    epoch["timestamp"] = epoch["timestamp"].astype("int64") // 1_000_000
    epoch.to_parquet(tmp_path / "epoch.parquet")
    for name in ("naive", "column", "epoch"):
        loaded = load_bars(tmp_path / f"{name}.parquet")
        assert loaded.index.equals(bars.index), name
        np.testing.assert_array_equal(loaded.to_numpy(), bars.to_numpy())


def test_load_takes_a_path_or_a_ticker(
    write_csv: WriteCsv, data_dir: Path, good_rows: list[str]
) -> None:
    assert len(load(write_csv())) == len(good_rows)
    assert len(load(str(write_csv()))) == len(good_rows)
    assert load("googl").attrs["ticker"] == "GOOGL"


def test_min_bars(write_csv: WriteCsv) -> None:
    path = write_csv()
    assert len(load_bars(path, min_bars=6)) == 6
    with pytest.raises(DataError, match="6 bars, fewer than the 7 required") as info:
        load_bars(path, min_bars=7)
    assert info.value.details["file"] == str(path)


@pytest.mark.parametrize("tz", [None, "UTC"])
def test_pandas_default_to_csv_output_loads_as_is(tmp_path: Path, tz: str | None) -> None:
    """``df.to_csv()`` writes the unnamed index as a first column with an empty header
    (``,Open,High,Low,Close,Volume``); that column is the time."""
    frame = pd.DataFrame(
        {
            "Open": [10.0, 10.5, 11.5],
            "High": [11.0, 12.0, 11.8],
            "Low": [9.0, 10.0, 10.9],
            "Close": [10.5, 11.5, 11.0],
            "Volume": [1000, 1100, 900],
        },
        index=pd.date_range("2020-01-01", periods=3, freq="D", tz=tz),
    )
    path = tmp_path / "frame.csv"
    frame.to_csv(path)
    assert path.read_text().splitlines()[0] == ",Open,High,Low,Close,Volume"
    bars = load_bars(path)
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert bars.index.equals(FIRST_DAYS[:3].as_unit("ns").rename("timestamp"))
    assert bars["close"].tolist() == [10.5, 11.5, 11.0]


def test_an_unnamed_first_column_is_not_the_time_when_a_time_column_exists(
    write_csv: WriteCsv, good_rows: list[str]
) -> None:
    rows = [f"{i},{row}" for i, row in enumerate(good_rows)]
    bars = load_bars(write_csv(rows, header=",Date,Open,High,Low,Close,Volume"))
    assert bars.index.equals(FIRST_DAYS.as_unit("ns").rename("timestamp"))
