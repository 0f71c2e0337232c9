"""Bars-per-year inference on the bundled data and on synthetic calendars."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesweep.errors import SettingsError, TradesweepError
from tradesweep.metrics import infer_periods_per_year
from tradesweep.metrics.periods import MAX_PERIODS_PER_YEAR, check_periods_per_year


def _sessions(days: pd.DatetimeIndex, start: str, bars: int, freq: str) -> pd.DatetimeIndex:
    """``bars`` bars of ``freq`` from ``start`` (a time of day) on each of ``days``."""
    parts = [pd.date_range(d + pd.Timedelta(start), periods=bars, freq=freq) for d in days]
    return parts[0].append(parts[1:])


def test_googl_daily_is_252(googl: pd.DataFrame) -> None:
    assert infer_periods_per_year(googl.index) == 252


def test_eurusd_hourly_is_24_hours_times_260_weekdays(eurusd: pd.DataFrame) -> None:
    # The file has Sunday 22:00/23:00 UTC bars (the FX week opens then) but none on Saturday,
    # and 24 bars on a typical UTC date: a round-the-clock weekday market.
    assert (eurusd.index.day_of_week == 6).any()
    assert infer_periods_per_year(eurusd.index) == 24 * 260 == 6240


@pytest.mark.parametrize(
    ("freq", "periods", "expected"),
    [
        ("D", 100, 365),  # crypto daily, 24/7
        ("h", 1000, 24 * 365),  # crypto hourly
        ("4h", 200, 6 * 365),
        ("15min", 2000, 96 * 365),
        ("W-SUN", 100, 52),
        ("W-FRI", 100, 52),
        ("ME", 100, 12),
        ("MS", 100, 12),
        ("QE", 40, 4),
        ("YE", 40, 1),
    ],
)
def test_regular_calendars(freq: str, periods: int, expected: int) -> None:
    # intraday series span two weeks or more, so that a 24/7 calendar shows its Saturdays
    index = pd.date_range("2001-01-01", periods=periods, freq=freq, tz="UTC")
    assert infer_periods_per_year(index) == expected


def test_business_days_are_252() -> None:
    assert infer_periods_per_year(pd.bdate_range("2024-01-01", periods=300, tz="UTC")) == 252


def test_business_days_with_holidays_still_252() -> None:
    days = pd.bdate_range("2024-01-01", periods=300, tz="UTC")
    assert infer_periods_per_year(days.delete([10, 50, 51, 120])) == 252


def test_us_equity_minutes_are_390_times_252() -> None:
    days = pd.bdate_range("2024-01-01", periods=15, tz="UTC")
    assert infer_periods_per_year(_sessions(days, "13h30min", 390, "min")) == 390 * 252


def test_us_equity_hours_are_7_times_252() -> None:
    days = pd.bdate_range("2024-01-01", periods=15, tz="UTC")
    assert infer_periods_per_year(_sessions(days, "13h30min", 7, "h")) == 7 * 252


def test_fx_week_of_hours_is_24_times_260() -> None:
    # Sunday 22:00 UTC to Friday 21:00 UTC, five weeks.
    weeks = pd.date_range("2024-01-07 22:00", periods=5, freq="7D", tz="UTC")
    index = _sessions(weeks, "0h", 120, "h")
    assert (index.day_of_week != 5).all()
    assert infer_periods_per_year(index) == 24 * 260


def test_near_24h_futures_session_counts_as_round_the_clock() -> None:
    days = pd.bdate_range("2024-01-01", periods=15, tz="UTC")
    assert infer_periods_per_year(_sessions(days, "0h", 23, "h")) == 23 * 260


def test_sunday_to_thursday_exchange_is_252() -> None:
    # Sunday-Thursday daily bars (no Saturday): a five-day exchange week.
    index = pd.date_range("2024-01-07", periods=300, freq="D", tz="UTC")
    index = index[index.day_of_week.isin([6, 0, 1, 2, 3])]
    assert infer_periods_per_year(index) == 252


def test_naive_index_is_taken_as_utc() -> None:
    assert infer_periods_per_year(pd.date_range("2024-01-01", periods=30, freq="D")) == 365


def test_a_few_stray_saturday_bars_do_not_make_a_24_7_market() -> None:
    days = pd.bdate_range("2024-01-01", periods=200, tz="UTC")
    saturdays = pd.date_range("2024-01-06", periods=3, freq="7D", tz="UTC")
    assert infer_periods_per_year(days.append(saturdays).sort_values()) == 252


@pytest.mark.parametrize(
    "index", [pd.DatetimeIndex([], tz="UTC"), pd.DatetimeIndex(["2024-01-01"])]
)
def test_fewer_than_two_timestamps_raise_with_a_fix(index: pd.DatetimeIndex) -> None:
    with pytest.raises(TradesweepError, match="periods_per_year"):
        infer_periods_per_year(index)


@pytest.mark.parametrize("value", [1e308, 31_622_401, 10**22, float("inf"), 0, -1, True])
def test_periods_per_year_is_at_most_one_bar_a_second(value: object) -> None:
    assert check_periods_per_year(MAX_PERIODS_PER_YEAR) == 31_622_400.0
    with pytest.raises(SettingsError, match="at most 31622400"):
        check_periods_per_year(value)
