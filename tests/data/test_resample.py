"""resample_bars equals a plain-Python oracle on both bundled datasets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import resample_bars, synthetic_bars, validate_bars
from tradesweep.errors import DataError

Bucket = Callable[[datetime], datetime]


def four_hours(stamp: datetime) -> datetime:
    return stamp.replace(hour=stamp.hour - stamp.hour % 4, minute=0, second=0, microsecond=0)


def week_from_sunday(stamp: datetime) -> datetime:
    day = stamp.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def month(stamp: datetime) -> datetime:
    return stamp.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def oracle(bars: pd.DataFrame, bucket: Bucket) -> pd.DataFrame:
    """Group rows by bucket start in a plain loop: first/max/min/last/sum."""
    groups: dict[datetime, list[dict[str, float]]] = {}
    for stamp, row in zip(bars.index.to_pydatetime(), bars.to_dict("records"), strict=True):
        groups.setdefault(bucket(stamp), []).append(row)
    records = []
    for rows in groups.values():
        record = {
            "open": rows[0]["open"],
            "high": max(r["high"] for r in rows),
            "low": min(r["low"] for r in rows),
            "close": rows[-1]["close"],
            "volume": sum(r["volume"] for r in rows),
        }
        if "adj_close" in rows[0]:
            record["adj_close"] = rows[-1]["adj_close"]
        records.append(record)
    index = pd.DatetimeIndex(list(groups), name="timestamp").as_unit("ns")
    return pd.DataFrame(records, index=index)


@pytest.mark.parametrize(
    ("ticker", "rule", "bucket"),
    [
        ("EURUSD", "4h", four_hours),
        ("EURUSD", "1W", week_from_sunday),
        ("GOOGL", "1W", week_from_sunday),
        ("GOOGL", "1M", month),
    ],
)
def test_matches_the_oracle(
    ticker: str, rule: str, bucket: Bucket, googl: pd.DataFrame, eurusd: pd.DataFrame
) -> None:
    bars = googl if ticker == "GOOGL" else eurusd
    result = resample_bars(bars, rule)
    expected = oracle(bars, bucket)
    pd.testing.assert_index_equal(result.index, expected.index)
    np.testing.assert_allclose(result.to_numpy(), expected.to_numpy(), rtol=1e-12)
    validate_bars(result)
    assert result.attrs == bars.attrs
    assert result["volume"].sum() == pytest.approx(bars["volume"].sum())


def test_empty_periods_are_dropped(googl: pd.DataFrame) -> None:
    weekly = resample_bars(googl, "1W")
    assert (weekly.index.day_of_week == 6).all()
    daily = resample_bars(googl, "1D")
    pd.testing.assert_frame_equal(daily, googl, check_freq=False)


def test_labels_are_period_starts(eurusd: pd.DataFrame) -> None:
    four = resample_bars(eurusd, "4h")
    assert four.index[0] == pd.Timestamp("2017-01-01 20:00", tz="UTC")
    assert (four.index.hour % 4 == 0).all()


@pytest.mark.parametrize("rule", ["1h", "4H", "30m"])
def test_finer_rule_is_refused(googl: pd.DataFrame, rule: str) -> None:
    with pytest.raises(DataError, match="cannot resample 1D bars to the finer rule"):
        resample_bars(googl, rule)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(DataError, match="unknown bar rule"):
        resample_bars(synthetic_bars(10, interval="1h"), "soon")
