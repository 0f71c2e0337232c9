"""Interval inference, labels and rule spellings."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesweep.data import infer_interval, interval_label, parse_rule
from tradesweep.errors import DataError


def test_bundled_intervals(googl: pd.DataFrame, eurusd: pd.DataFrame) -> None:
    assert infer_interval(googl.index) == pd.Timedelta("1D")
    assert infer_interval(eurusd.index) == pd.Timedelta("1h")


def test_too_few_bars() -> None:
    with pytest.raises(DataError, match="cannot show an interval"):
        infer_interval(pd.DatetimeIndex(["2020-01-01"], tz="UTC"))


@pytest.mark.parametrize(
    ("spacing", "label"),
    [
        ("1D", "1D"),
        ("7D", "1W"),
        ("14D", "2W"),
        ("28D", "4W"),
        ("30D", "1M"),
        ("31D", "1M"),
        ("30D12h", "1M"),
        ("61D", "2M"),
        ("91D", "3M"),
        ("365D", "1Y"),
        ("366D", "1Y"),
        ("10D", "10D"),
        ("4h", "4h"),
        ("15min", "15min"),
        ("30s", "30s"),
        ("90min", "90min"),
    ],
)
def test_labels(spacing: str, label: str) -> None:
    assert interval_label(pd.Timedelta(spacing)) == label


@pytest.mark.parametrize(
    ("rule", "freq"),
    [
        ("1h", "h"),
        ("4H", "4h"),
        ("15m", "15min"),
        ("15min", "15min"),
        ("1d", "D"),
        ("1W", "W-SUN"),
        ("W-MON", "W-MON"),
        ("1M", "MS"),
        ("ME", "MS"),
        ("1y", "YS-JAN"),
    ],
)
def test_rule_spellings(rule: str, freq: str) -> None:
    assert parse_rule(rule).freqstr == freq


@pytest.mark.parametrize("rule", ["", "0h", "fortnight", "1.5h"])
def test_bad_rules(rule: str) -> None:
    with pytest.raises(DataError):
        parse_rule(rule)


@pytest.mark.parametrize(("freq", "label"), [("W-FRI", "1W"), ("MS", "1M"), ("ME", "1M")])
def test_weekly_and_monthly_bars_are_labelled_as_such(freq: str, label: str) -> None:
    for periods in (24, 25, 156):
        index = pd.date_range("2012-01-01", periods=periods, freq=freq, tz="UTC")
        assert interval_label(infer_interval(index)) == label
