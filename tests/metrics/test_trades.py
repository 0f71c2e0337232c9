"""Trade statistics against a hand-computed example, and their null cases."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from tradesweep.metrics.periods import day_clock
from tradesweep.metrics.trades import (
    exposure_pct,
    format_duration,
    geometric_mean_pct,
    trade_stats,
    trades_per_month,
)

TradesFactory = Callable[..., np.ndarray]
DAYS = np.arange(10.0)  # one bar a day


@pytest.fixture
def five(make_trades: TradesFactory) -> np.ndarray:
    # cash pnl and percent pnl differ on purpose (notional 500; the last trade had 375)
    return make_trades(
        pnl=[10.0, -5.0, 0.0, 20.0, -15.0],
        pnl_pct=[2.0, -1.0, 0.0, 4.0, -4.0],
        entry_idx=[0, 2, 4, 6, 8],
        exit_idx=[1, 4, 5, 8, 9],
    )


def test_hand_example(five: np.ndarray) -> None:
    s = trade_stats(five, DAYS)
    assert s["total_trades"] == 5
    assert s["win_rate_pct"] == 40.0  # 2 of 5 have pnl > 0; the zero trade is not a win
    assert s["profit_factor"] == pytest.approx(1.5)  # (10 + 20) / |-5 - 15| in cash
    assert s["expectancy_pct"] == pytest.approx(0.2)  # (2 - 1 + 0 + 4 - 4) / 5
    # 1.02 * 0.99 = 1.0098; * 1.00 * 1.04 = 1.050192; * 0.96 = 1.00818432
    growth = 1.02 * 0.99 * 1.00 * 1.04 * 0.96
    assert growth == pytest.approx(1.00818432)
    # 1.00818432 ** (1/5) - 1 = 0.0016315 -> 0.16315 %
    assert s["avg_trade_pct"] == pytest.approx((growth**0.2 - 1) * 100)
    assert s["avg_trade_pct"] == pytest.approx(0.16315315)
    assert s["best_trade_pct"] == 4.0
    assert s["worst_trade_pct"] == -4.0
    assert s["avg_win"] == 15.0  # (10 + 20) / 2
    assert s["avg_loss"] == -10.0  # (-5 - 15) / 2
    assert s["largest_win"] == 20.0
    assert s["largest_loss"] == -15.0
    assert s["avg_trade_duration_days"] == pytest.approx(1.4)  # (1 + 2 + 1 + 2 + 1) / 5
    assert s["avg_trade_duration"] == "1.4 days"


def test_accepts_a_dataframe_of_the_records(five: np.ndarray) -> None:
    assert trade_stats(pd.DataFrame(five), DAYS) == trade_stats(five, DAYS)


def test_no_trades(make_trades: TradesFactory) -> None:
    s = trade_stats(make_trades(pnl=[]), DAYS)
    assert s.pop("total_trades") == 0
    assert set(s.values()) == {None}


def test_one_winning_trade(make_trades: TradesFactory) -> None:
    s = trade_stats(make_trades(pnl=[7.0], pnl_pct=[3.5], entry_idx=[2], exit_idx=[5]), DAYS)
    assert s["win_rate_pct"] == 100.0
    assert s["profit_factor"] is None  # no losing trade: gross loss 0
    assert s["avg_trade_pct"] == pytest.approx(3.5)
    assert s["expectancy_pct"] == s["best_trade_pct"] == s["worst_trade_pct"] == 3.5
    assert s["avg_win"] == s["largest_win"] == 7.0
    assert s["avg_loss"] is None and s["largest_loss"] is None
    assert s["avg_trade_duration"] == "3.0 days"


def test_only_losing_trades_have_profit_factor_zero(make_trades: TradesFactory) -> None:
    s = trade_stats(make_trades(pnl=[-1.0, -2.0], pnl_pct=[-1.0, -2.0]), DAYS)
    assert s["profit_factor"] == 0.0
    assert s["win_rate_pct"] == 0.0
    assert s["avg_win"] is None and s["largest_win"] is None


def test_only_breakeven_trades(make_trades: TradesFactory) -> None:
    s = trade_stats(make_trades(pnl=[0.0, 0.0], pnl_pct=[0.0, 0.0]), DAYS)
    assert s["profit_factor"] is None
    assert s["win_rate_pct"] == 0.0
    assert s["avg_trade_pct"] == 0.0


def test_geometric_mean_of_a_total_loss_is_null() -> None:
    assert geometric_mean_pct(np.array([10.0, -100.0])) is None
    assert geometric_mean_pct(np.array([10.0, -150.0])) is None  # a short that lost 150 %
    assert geometric_mean_pct(np.array([])) is None
    # (1.21 * 1.0) ** 0.5 - 1 = 0.1
    assert geometric_mean_pct(np.array([21.0, 0.0])) == pytest.approx(10.0)


def test_intraday_durations(make_trades: TradesFactory) -> None:
    hours = day_clock(pd.date_range("2024-01-01", periods=10, freq="h", tz="UTC"))
    s = trade_stats(make_trades(pnl=[1.0, 1.0], entry_idx=[0, 2], exit_idx=[7, 9]), hours)
    assert s["avg_trade_duration_days"] == pytest.approx(7 / 24)
    assert s["avg_trade_duration"] == "7.0 hours"


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (5.25, "5.2 days"),
        (1.0, "1.0 days"),
        (7 / 24, "7.0 hours"),
        (1 / 24, "1.0 hours"),
        (0.5 / 24, "30.0 minutes"),
        (0.0, "0.0 minutes"),
    ],
)
def test_format_duration(days: float, text: str) -> None:
    assert format_duration(days) == text


def test_bar_indices_out_of_range_are_rejected(make_trades: TradesFactory) -> None:
    with pytest.raises(ValueError, match=r"trade 1 has entry_idx=3, exit_idx=10"):
        trade_stats(make_trades(pnl=[1.0, 1.0], entry_idx=[0, 3], exit_idx=[2, 10]), DAYS)
    with pytest.raises(ValueError, match="trade 0"):
        trade_stats(make_trades(pnl=[1.0], entry_idx=[4], exit_idx=[2]), DAYS)


def test_trades_per_month() -> None:
    # 10 trades over 60.875 days = 2 mean months (2 x 30.4375): 5 a month
    assert trades_per_month(10, 60.875) == pytest.approx(5.0)
    assert trades_per_month(0, 30.0) == 0.0
    assert trades_per_month(3, 0.0) is None


def test_exposure_counts_bars_holding_any_position() -> None:
    # 3 of 5 bars hold a position (long or short)
    assert exposure_pct(np.array([0.0, 2.0, -1.5, 0.0, 0.1])) == pytest.approx(60.0)
    assert exposure_pct(np.zeros(4)) == 0.0
    assert math.isclose(exposure_pct(np.ones(3)), 100.0)
