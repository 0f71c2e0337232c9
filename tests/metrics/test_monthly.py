"""The year x month returns table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.metrics import monthly_returns


def test_hand_example() -> None:
    index = pd.DatetimeIndex(
        ["2023-11-15", "2023-11-30", "2023-12-10", "2024-01-05", "2024-01-31", "2024-03-01"],
        tz="UTC",
    )
    equity = np.array([105.0, 110.0, 99.0, 120.0, 118.8, 130.68])
    table = monthly_returns(index, equity, initial_cash=100.0)
    # Nov 2023: 110 / 100 (the cash) - 1 = 10 %
    # Dec 2023: 99 / 110 - 1 = -10 %
    # Jan 2024: 118.8 / 99 - 1 = 20 %
    # Feb 2024: no bars -> NaN; Mar 2024: 130.68 / 118.8 - 1 = 10 %
    assert table.index.tolist() == [2023, 2024]
    assert table.columns.tolist() == list(range(1, 13))
    assert table.loc[2023, 11] == pytest.approx(10.0)
    assert table.loc[2023, 12] == pytest.approx(-10.0)
    assert table.loc[2024, 1] == pytest.approx(20.0)
    assert np.isnan(table.loc[2024, 2])
    assert table.loc[2024, 3] == pytest.approx(10.0)
    assert table.loc[2023, :10].isna().all()


def test_cells_compound_to_the_total_return() -> None:
    index = pd.date_range("2022-03-17", periods=500, freq="D", tz="UTC")
    rng = np.random.default_rng(7)
    equity = 1000.0 * np.cumprod(1 + rng.normal(0, 0.01, index.size))
    cells = monthly_returns(index, equity, initial_cash=1000.0).to_numpy().ravel()
    cells = cells[~np.isnan(cells)]
    assert np.prod(1 + cells / 100) == pytest.approx(equity[-1] / 1000.0)


def test_without_initial_cash_the_first_bar_is_the_base() -> None:
    index = pd.DatetimeIndex(["2024-01-02", "2024-01-31"], tz="UTC")
    assert monthly_returns(index, np.array([200.0, 210.0])).loc[2024, 1] == pytest.approx(5.0)


def test_months_are_utc() -> None:
    # 23:30 on 31 Jan in New York is 04:30 on 1 Feb UTC
    index = pd.DatetimeIndex(["2024-01-15 12:00", "2024-01-31 23:30"], tz="America/New_York")
    table = monthly_returns(index, np.array([100.0, 110.0]), initial_cash=100.0)
    assert table.loc[2024, 1] == pytest.approx(0.0)
    assert table.loc[2024, 2] == pytest.approx(10.0)


def test_empty_and_mismatched() -> None:
    empty = monthly_returns(pd.DatetimeIndex([], tz="UTC"), np.array([]))
    assert empty.empty and empty.columns.tolist() == list(range(1, 13))
    with pytest.raises(ValueError, match="2 bars but equity has 1"):
        monthly_returns(pd.DatetimeIndex(["2024-01-01", "2024-01-02"]), np.array([1.0]))
