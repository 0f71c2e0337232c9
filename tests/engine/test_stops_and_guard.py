"""Hand-computed checks of stop loss, take profit, trailing and ATR stops, and the drawdown
guard, run on both the kernel and the reference simulator."""

from __future__ import annotations

import numpy as np
import pytest

from tradesweep.engine import EngineSettings, ExitReason, run_backtest, simulate_reference
from tradesweep.indicators.nb import atr_nb

SIMULATORS = pytest.mark.parametrize("simulate", [run_backtest, simulate_reference])
AT_CLOSE = EngineSettings(cash=1000, fill="close")


def only_trade(result):
    (trade,) = result.trades
    return trade


@SIMULATORS
def test_stop_loss_touched_fills_at_the_level(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (96, 97, 95.5, 96), (96, 97, 94, 95.5), 99])
    r = simulate(bars, make_signals(4, long_entry=[0]), AT_CLOSE.replace(stop_loss=0.05))
    t = only_trade(r)
    assert (t["exit_idx"], t["exit_price"], t["exit_reason"]) == (2, 95.0, ExitReason.stop_loss)


@SIMULATORS
def test_gap_through_the_stop_fills_at_the_open(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (97, 98, 96.5, 97), (90, 92, 89, 91), 99])
    settings = AT_CLOSE.replace(stop_loss=0.05, slippage=0.01)
    t = only_trade(simulate(bars, make_signals(4, long_entry=[0]), settings))
    assert t["exit_idx"] == 2 and t["exit_reason"] == ExitReason.stop_loss
    # stop level from the entry fill (101): 95.95; the bar opens at 90 -> 90, less slippage
    assert t["exit_price"] == pytest.approx(90 * 0.99)


@SIMULATORS
def test_short_stop_loss_gap_up(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (103, 104, 101, 103), (110, 111, 108, 109)])
    settings = AT_CLOSE.replace(direction="short_only", stop_loss=0.05)
    t = only_trade(simulate(bars, make_signals(3, short_entry=[0]), settings))
    assert (t["exit_idx"], t["exit_price"], t["exit_reason"]) == (2, 110.0, ExitReason.stop_loss)


@SIMULATORS
def test_take_profit(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (101, 111, 99, 105), 100])
    settings = AT_CLOSE.replace(take_profit=0.1)
    t = only_trade(simulate(bars, make_signals(3, long_entry=[0]), settings))
    assert (t["exit_price"], t["exit_reason"]) == (pytest.approx(110.0), ExitReason.take_profit)
    gapped = make_bars([100, (112, 113, 94, 100), 100])
    t = only_trade(simulate(gapped, make_signals(3, long_entry=[0]), settings))
    assert (t["exit_price"], t["exit_reason"]) == (112.0, ExitReason.take_profit)


@SIMULATORS
def test_stop_and_target_in_one_bar_assume_the_stop(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (100, 111, 94, 105), 100])
    settings = AT_CLOSE.replace(stop_loss=0.05, take_profit=0.1)
    r = simulate(bars, make_signals(3, long_entry=[0]), settings)
    t = only_trade(r)
    assert (t["exit_price"], t["exit_reason"]) == (95.0, ExitReason.stop_loss)
    assert r.stop_and_target_same_bar == 1
    # a bar that opens beyond the target is no ambiguity: the open came first
    gapped = make_bars([100, (112, 113, 94, 100), 100])
    r = simulate(gapped, make_signals(3, long_entry=[0]), settings)
    assert only_trade(r)["exit_reason"] == ExitReason.take_profit
    assert r.stop_and_target_same_bar == 0


@SIMULATORS
def test_trailing_stop_follows_the_best_price(simulate, make_bars, make_signals) -> None:
    bars = make_bars(
        [
            100,
            (101, 110, 100, 109),  # level 90 (best 100); best becomes 110
            (109, 120, 100, 118),  # level 99 not hit (this bar's high counts from the next)
            (118, 119, 107, 110),  # level 108 (best 120): hit
            110,
        ]
    )
    settings = AT_CLOSE.replace(trailing_stop=0.1)
    t = only_trade(simulate(bars, make_signals(5, long_entry=[0]), settings))
    assert t["exit_idx"] == 3 and t["exit_reason"] == ExitReason.trailing_stop
    assert t["exit_price"] == pytest.approx(108.0)


@SIMULATORS
def test_tighter_of_stop_loss_and_trailing_stop_wins(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (100, 101, 96, 100), (100, 130, 100, 125), (125, 126, 90, 95)])
    settings = AT_CLOSE.replace(stop_loss=0.05, trailing_stop=0.1)
    t = only_trade(simulate(bars, make_signals(4, long_entry=[0]), settings))
    # bar 1: stop 95, trailing 90 -> neither; bar 3: trailing 117 above stop 95
    assert (t["exit_idx"], t["exit_price"]) == (3, pytest.approx(117.0))
    assert t["exit_reason"] == ExitReason.trailing_stop


@SIMULATORS
def test_next_open_entry_bar_range_can_hit_the_stop(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (100, 101, 94, 99), 99])
    settings = EngineSettings(cash=1000, stop_loss=0.05)
    t = only_trade(simulate(bars, make_signals(3, long_entry=[0]), settings))
    assert (t["entry_idx"], t["exit_idx"], t["bars_held"]) == (1, 1, 0)
    assert t["exit_price"] == 95.0


@SIMULATORS
def test_close_fill_entry_bar_range_does_not_count(simulate, make_bars, make_signals) -> None:
    bars = make_bars([(100, 101, 80, 100), (100, 101, 99, 100)])
    settings = AT_CLOSE.replace(stop_loss=0.05)
    t = only_trade(simulate(bars, make_signals(2, long_entry=[0]), settings))
    assert t["exit_reason"] == ExitReason.end


@SIMULATORS
def test_atr_stop_uses_the_atr_of_the_signal_bar(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 100, (100, 101, 97.5, 100), (100, 100, 96.5, 99), 99])
    atr = np.array([np.nan, 2.0, 5.0, 5.0, 5.0])
    settings = EngineSettings(cash=1000, stop_loss_atr=1.5, take_profit_atr=4.0)
    # signal on bar 1 (ATR 2), entry at bar 2's open 100: stop 97, target 108
    t = only_trade(simulate(bars, make_signals(5, long_entry=[1]), settings, atr=atr))
    assert (t["entry_idx"], t["exit_idx"], t["exit_price"]) == (2, 3, 97.0)
    # ATR still NaN on the signal bar: no ATR stop for that trade
    t = only_trade(simulate(bars, make_signals(5, long_entry=[0]), settings, atr=atr))
    assert t["exit_reason"] == ExitReason.end


@SIMULATORS
def test_atr_is_computed_when_not_given(simulate, make_bars, make_signals) -> None:
    bars = make_bars([(10, 11, 9, 10), (10, 12, 9, 11), (11, 12, 10, 11), 11, (11, 11, 5, 6)])
    settings = AT_CLOSE.replace(stop_loss_atr=1.0, atr_period=2)
    atr = atr_nb(*(bars[c].to_numpy() for c in ("high", "low", "close")), 2)
    t = only_trade(simulate(bars, make_signals(5, long_entry=[2]), settings))
    assert t["exit_idx"] == 4 and t["exit_price"] == pytest.approx(11 - atr[2])


@SIMULATORS
def test_short_take_profit_and_trailing(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, (99, 100, 90, 92), (92, 97, 91, 96), 96])
    settings = AT_CLOSE.replace(direction="short_only", trailing_stop=0.05, take_profit=0.2)
    t = only_trade(simulate(bars, make_signals(4, short_entry=[0]), settings))
    # best (lowest low) 90 after bar 1 -> level 94.5 hit on bar 2
    assert (t["exit_idx"], t["exit_reason"]) == (2, ExitReason.trailing_stop)
    assert t["exit_price"] == pytest.approx(94.5)
    assert t["pnl"] == pytest.approx(10 * (100 - 94.5))


@SIMULATORS
def test_max_drawdown_flattens_and_stops_trading(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 110, 90, 82, 90, 100])
    signals = make_signals(6, long_entry=[0, 4])
    r = simulate(bars, signals, AT_CLOSE.replace(max_drawdown=0.25))
    # peak 1100 at bar 1; bar 3's 820 is below 1100 * 0.75 = 825 -> flatten at 82
    t = only_trade(r)
    assert (t["exit_idx"], t["exit_price"], t["exit_reason"]) == (3, 82.0, ExitReason.max_drawdown)
    np.testing.assert_array_equal(r.position, [10, 10, 10, 0, 0, 0])
    np.testing.assert_allclose(r.equity, [1000, 1100, 900, 820, 820, 820])


@SIMULATORS
def test_max_drawdown_not_reached_keeps_trading(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 110, 90, 84, 90, 100])
    r = simulate(bars, make_signals(6, long_entry=[0]), AT_CLOSE.replace(max_drawdown=0.25))
    assert only_trade(r)["exit_reason"] == ExitReason.end
