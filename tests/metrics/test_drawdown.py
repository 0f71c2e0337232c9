"""Drawdowns against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.metrics.drawdown import (
    avg_drawdown_pct,
    calmar_ratio,
    drawdown_episodes,
    drawdown_series,
    max_drawdown_duration_days,
    max_drawdown_pct,
)
from tradesweep.metrics.periods import day_clock

CASH = 100.0
# Hourly bars. The first bar is below the initial cash (a drawdown from the cash), then a
# recovered episode, then one still open at the end.
EQUITY = np.array([95.0, 100.0, 102.0, 98.0, 103.0, 101.0])
HOURS = day_clock(pd.date_range("2024-01-01", periods=6, freq="h", tz="UTC"))
# peak = max(100, equity so far) = [100, 100, 102, 102, 103, 103]
# dd   = [95/100-1, 0, 0, 98/102-1, 0, 101/103-1] = [-0.05, 0, 0, -0.0392157, 0, -0.0194175]
DD = [-0.05, 0.0, 0.0, 98 / 102 - 1, 0.0, 101 / 103 - 1]


def test_series_peaks_from_the_initial_cash() -> None:
    assert drawdown_series(EQUITY, CASH) == pytest.approx(DD)
    assert drawdown_series(EQUITY, CASH)[0] < 0  # below the cash on bar 0


def test_series_is_zero_at_new_highs() -> None:
    assert (drawdown_series(np.array([100.0, 101, 102, 150]), CASH) == 0).all()


def test_episodes() -> None:
    ep = drawdown_episodes(drawdown_series(EQUITY, CASH))
    # episode 1: bar 0 under the cash (peak "bar" 0), back to 100 at bar 1
    # episode 2: peak 102 at bar 2, under at bar 3, recovered at bar 4
    # episode 3: peak 103 at bar 4, under at bar 5 = the last bar, not recovered
    assert ep.peak_idx.tolist() == [0, 2, 4]
    assert ep.end_idx.tolist() == [1, 4, 5]
    assert ep.trough == pytest.approx([DD[0], DD[3], DD[5]])
    assert ep.recovered.tolist() == [True, True, False]


def test_max_drawdown_is_negative_percent() -> None:
    assert max_drawdown_pct(drawdown_series(EQUITY, CASH)) == pytest.approx(-5.0)


def test_avg_drawdown_is_the_mean_trough() -> None:
    ep = drawdown_episodes(drawdown_series(EQUITY, CASH))
    # (-5 + -3.9215686 + -1.9417476) / 3 = -3.6211054
    expected = (-5.0 + (98 / 102 - 1) * 100 + (101 / 103 - 1) * 100) / 3
    assert avg_drawdown_pct(ep) == pytest.approx(expected)
    assert avg_drawdown_pct(ep) == pytest.approx(-3.6211054, rel=1e-7)


def test_max_duration_in_calendar_days() -> None:
    ep = drawdown_episodes(drawdown_series(EQUITY, CASH))
    # durations: bar 0->1 = 1 h, bar 2->4 = 2 h, bar 4->5 = 1 h (open); longest 2 h = 1/12 day
    assert max_drawdown_duration_days(ep, HOURS) == pytest.approx(2 / 24)


def test_duration_counts_calendar_time_across_weekends() -> None:
    days = day_clock(pd.bdate_range("2024-01-04", periods=4, tz="UTC"))  # Thu Fri Mon Tue
    ep = drawdown_episodes(drawdown_series(np.array([100.0, 90.0, 95.0, 100.0]), CASH))
    # peak on Thursday (bar 0), recovered on Tuesday (bar 3): 5 calendar days
    assert max_drawdown_duration_days(ep, days) == 5.0


def test_unrecovered_episode_runs_to_the_last_bar() -> None:
    days = np.arange(5.0)
    ep = drawdown_episodes(drawdown_series(np.array([100.0, 120.0, 90.0, 80.0, 85.0]), CASH))
    # peak at bar 1 (day 1), never recovered: to bar 4 (day 4) = 3 days; trough 80/120-1
    assert max_drawdown_duration_days(ep, days) == 3.0
    assert ep.trough == pytest.approx([80 / 120 - 1])
    assert ep.recovered.tolist() == [False]


def test_no_drawdown() -> None:
    dd = drawdown_series(np.full(4, CASH), CASH)
    ep = drawdown_episodes(dd)
    assert max_drawdown_pct(dd) == 0.0
    assert avg_drawdown_pct(ep) == 0.0
    assert max_drawdown_duration_days(ep, np.arange(4.0)) == 0.0
    assert ep.peak_idx.size == 0


def test_negative_equity_draws_down_past_minus_100() -> None:
    assert max_drawdown_pct(drawdown_series(np.array([50.0, -20.0]), CASH)) == pytest.approx(-120)


def test_calmar() -> None:
    # CAGR 12 % over a 4 % max drawdown = 3
    assert calmar_ratio(12.0, -4.0) == pytest.approx(3.0)
    assert calmar_ratio(-12.0, -4.0) == pytest.approx(-3.0)
    assert calmar_ratio(12.0, 0.0) is None
    assert calmar_ratio(None, -4.0) is None
