"""The bundled samples load completely and unchanged."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import ADJ_CLOSE, BAR_COLUMNS, load_sample, sample_tickers, validate_bars
from tradesweep.errors import DatasetNotFound


def _raw(name: str) -> list[dict[str, str]]:
    text = (files("tradesweep.data") / "samples" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_googl_rows_range_and_columns(googl: pd.DataFrame) -> None:
    assert len(googl) == 2335
    assert googl.index[0] == pd.Timestamp("2009-05-22", tz="UTC")
    assert googl.index[-1] == pd.Timestamp("2018-08-29", tz="UTC")
    assert list(googl.columns) == [*BAR_COLUMNS, ADJ_CLOSE]
    assert googl.attrs == {"ticker": "GOOGL", "source": "bundled:GOOGL", "synthetic": False}


def test_eurusd_rows_range_and_columns(eurusd: pd.DataFrame) -> None:
    assert len(eurusd) == 6225
    assert eurusd.index[0] == pd.Timestamp("2017-01-01 22:00", tz="UTC")
    assert eurusd.index[-1] == pd.Timestamp("2017-12-29 21:00", tz="UTC")
    assert list(eurusd.columns) == list(BAR_COLUMNS)
    assert eurusd.attrs["source"] == "bundled:EURUSD"


def test_samples_follow_the_contract(sample_bars: pd.DataFrame) -> None:
    validate_bars(sample_bars)
    assert sample_bars.index.name == "timestamp"
    assert str(sample_bars.index.dtype) == "datetime64[ns, UTC]"
    assert all(dtype == np.float64 for dtype in sample_bars.dtypes)


@pytest.mark.parametrize(
    ("ticker", "name", "fmt", "columns"),
    [
        (
            "GOOGL",
            "GOOGL_1d.csv",
            "%Y-%m-%d",
            ["Open", "High", "Low", "Close", "Volume", "Adj Close"],
        ),
        (
            "EURUSD",
            "EURUSD_1h.csv",
            "%d.%m.%Y %H:%M:%S.%f",
            ["Open", "High", "Low", "Close", "Volume"],
        ),
    ],
)
def test_values_equal_the_raw_csv(ticker: str, name: str, fmt: str, columns: list[str]) -> None:
    raw = _raw(name)
    bars = load_sample(ticker)
    time_header = next(iter(raw[0]))
    stamps = [datetime.strptime(row[time_header], fmt).replace(tzinfo=UTC) for row in raw]
    assert list(bars.index.to_pydatetime()) == stamps
    expected = np.array([[float(row[c]) for c in columns] for row in raw])
    np.testing.assert_array_equal(bars.to_numpy(), expected)


def test_ticker_is_case_insensitive_and_copies_are_independent() -> None:
    first = load_sample("googl")
    first.iloc[0, 0] = -1.0
    assert load_sample("GOOGL").iloc[0, 0] > 0
    assert sample_tickers() == ["EURUSD", "GOOGL"]


def test_unknown_sample_suggests_the_nearest() -> None:
    with pytest.raises(DatasetNotFound, match="did you mean GOOGL"):
        load_sample("GOOG")
