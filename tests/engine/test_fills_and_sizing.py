"""Hand-computed checks of fill timing, fees, slippage, sizing and signal resolution.

Each test runs the kernel and the reference simulator and expects both to give the numbers
worked out by hand in the test (conventions: docs/engine.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from tradesweep.engine import EngineSettings, ExitReason, Side, run_backtest, simulate_reference

SIMULATORS = pytest.mark.parametrize("simulate", [run_backtest, simulate_reference])

ROWS = [
    (10, 10, 10, 10),
    (10, 10, 10, 10),
    (11, 12, 10.5, 11.5),
    (12, 13, 11, 12),
    (13, 13, 13, 13),
    (14, 14, 14, 14),
]


@SIMULATORS
def test_next_open_fills_at_the_following_open(simulate, make_bars, make_signals) -> None:
    r = simulate(
        make_bars(ROWS), make_signals(6, long_entry=[1], long_exit=[3]), EngineSettings(cash=1100)
    )
    # bought 1100 / 11 = 100 units at bar 2's open, sold at bar 4's open (13)
    np.testing.assert_allclose(r.equity, [1100, 1100, 1150, 1200, 1300, 1300])
    np.testing.assert_array_equal(r.position, [0, 0, 100, 100, 0, 0])
    (t,) = r.trades
    assert (t["entry_idx"], t["exit_idx"], t["bars_held"]) == (2, 4, 2)
    assert (t["entry_price"], t["exit_price"], t["units"]) == (11.0, 13.0, 100.0)
    assert t["pnl"] == pytest.approx(200.0) and t["side"] == Side.long
    assert t["exit_reason"] == ExitReason.signal


@SIMULATORS
def test_close_fills_at_the_signal_bars_close(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(cash=1100, fill="close")
    r = simulate(make_bars(ROWS), make_signals(6, long_entry=[1], long_exit=[3]), settings)
    # 110 units bought at bar 1's close (10), sold at bar 3's close (12)
    np.testing.assert_allclose(r.equity, [1100, 1100, 1265, 1320, 1320, 1320])
    (t,) = r.trades
    assert (t["entry_idx"], t["exit_idx"], t["entry_price"], t["exit_price"]) == (1, 3, 10, 12)


@SIMULATORS
def test_fees_fixed_fee_and_slippage_long(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(cash=1000, fees=0.01, fixed_fee=1.0, slippage=0.02, fill="close")
    r = simulate(
        make_bars([100, 110, 120]), make_signals(3, long_entry=[0], long_exit=[2]), settings
    )
    entry_fill = 100 * 1.02  # a buy fills above the price
    units = (1000 - 1) / (entry_fill * 1.01)  # the fixed fee first, then the percentage
    entry_fee = units * entry_fill * 0.01 + 1
    exit_fill = 120 * 0.98  # a sell fills below
    exit_fee = units * exit_fill * 0.01 + 1
    final = units * exit_fill - exit_fee  # all cash was spent on entry
    (t,) = r.trades
    assert t["units"] == pytest.approx(units, rel=1e-12)
    assert (t["entry_price"], t["exit_price"]) == pytest.approx((entry_fill, exit_fill))
    assert t["fees"] == pytest.approx(entry_fee + exit_fee, rel=1e-12)
    assert r.total_fees == pytest.approx(entry_fee + exit_fee, rel=1e-12)
    assert r.equity[0] == pytest.approx(units * 100, rel=1e-12)  # marked at the raw close
    assert r.equity[-1] == pytest.approx(final, rel=1e-12)
    assert t["pnl"] == pytest.approx(final - 1000, rel=1e-12)
    # entry cost (units * fill + entry fee) is exactly the 1000 cash
    assert t["pnl_pct"] == pytest.approx((final - 1000) / 1000 * 100, rel=1e-12)


@SIMULATORS
def test_fees_and_slippage_short(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(
        cash=1000, fees=0.01, slippage=0.02, fill="close", direction="short_only"
    )
    r = simulate(
        make_bars([100, 90, 80]), make_signals(3, short_entry=[0], short_exit=[2]), settings
    )
    entry_fill = 98.0  # a short sale fills below the price
    units = 1000 / (entry_fill * 1.01)
    cash = 1000 + units * entry_fill - units * entry_fill * 0.01
    exit_fill = 80 * 1.02  # buying back fills above
    final = cash - units * exit_fill - units * exit_fill * 0.01
    assert r.equity[1] == pytest.approx(cash - units * 90, rel=1e-12)
    assert r.equity[2] == pytest.approx(final, rel=1e-12)
    np.testing.assert_allclose(r.position[:2], [-units, -units], rtol=1e-12)
    (t,) = r.trades
    assert t["side"] == Side.short
    assert t["exit_price"] == pytest.approx(exit_fill)
    assert t["pnl"] == pytest.approx(final - 1000, rel=1e-12)


@SIMULATORS
def test_whole_units_floor(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(cash=1000, fees=0.01, fill="close", fractional=False)
    r = simulate(make_bars([30, 30]), make_signals(2, long_entry=[0]), settings)
    # 1000 / (30 * 1.01) = 33.0033 -> 33 units; the rest stays in cash
    assert r.trades["units"][0] == 33.0
    assert r.equity[0] == pytest.approx(1000 - 33 * 30 * 0.01)


@SIMULATORS
@pytest.mark.parametrize(
    ("size", "size_type", "units"),
    [
        (0.5, "percent", 50.0),
        (250.0, "cash", 25.0),
        (5000.0, "cash", 100.0),  # more cash than the equity: cut to the equity
        (7.0, "units", 7.0),
        (500.0, "units", 100.0),  # more units than the equity pays for: cut
    ],
)
def test_sizing(simulate, make_bars, make_signals, size, size_type, units) -> None:
    settings = EngineSettings(cash=1000, fill="close", size=size, size_type=size_type)
    r = simulate(make_bars([10, 12]), make_signals(2, long_entry=[0]), settings)
    assert r.trades["units"][0] == pytest.approx(units)
    assert r.equity[-1] == pytest.approx(1000 + units * 2)


@SIMULATORS
def test_reversal_in_long_short(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 100, 110, 120, 100, 90])
    signals = make_signals(6, long_entry=[0], long_exit=[2], short_entry=[2])
    r = simulate(bars, signals, EngineSettings(cash=1000, direction="long_short"))
    # long 10 @ 100 (bar 1) -> at bar 3's open (120): sell 10, then short 1200 / 120 = 10
    np.testing.assert_array_equal(r.position, [0, 10, 10, -10, -10, 0])
    np.testing.assert_allclose(r.equity, [1000, 1000, 1100, 1200, 1400, 1500])
    long_trade, short_trade = r.trades
    assert (long_trade["side"], long_trade["exit_idx"], long_trade["pnl"]) == (1, 3, 200)
    assert (short_trade["side"], short_trade["entry_idx"], short_trade["exit_idx"]) == (-1, 3, 5)
    assert short_trade["exit_reason"] == ExitReason.end and short_trade["pnl"] == 300


@SIMULATORS
def test_long_only_ignores_short_signals_and_short_only_long_ones(
    simulate, make_bars, make_signals
) -> None:
    bars = make_bars([100, 100, 110, 120])
    signals = make_signals(4, long_entry=[0], short_entry=[1], short_exit=[2])
    assert simulate(bars, signals, EngineSettings()).trades["side"].tolist() == [1]
    signals = make_signals(4, short_entry=[0], long_entry=[1], long_exit=[2])
    short_only = EngineSettings(direction="short_only")
    assert simulate(bars, signals, short_only).trades["side"].tolist() == [-1]


@SIMULATORS
def test_conflicting_signals_on_one_bar_cancel(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100] * 6)
    both = EngineSettings(direction="long_short", fill="close")
    # entry and exit of one side together: nothing, flat or in position
    r = simulate(bars, make_signals(6, long_entry=[0, 2], long_exit=[0, 2]), both)
    assert len(r.trades) == 0 and not r.position.any()
    r = simulate(bars, make_signals(6, long_entry=[0, 2], long_exit=[2]), both)
    np.testing.assert_array_equal(r.trades["exit_idx"], [5])  # held through bar 2
    # a long and a short entry together: nothing
    r = simulate(bars, make_signals(6, long_entry=[1], short_entry=[1]), both)
    assert len(r.trades) == 0 and not r.position.any()


@SIMULATORS
def test_no_pyramiding_and_exit_when_flat_does_nothing(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 100, 100, 100, 100])
    signals = make_signals(5, long_exit=[0], long_entry=[1, 2])
    r = simulate(bars, signals, EngineSettings(cash=1000, fill="close"))
    np.testing.assert_array_equal(r.position, [0, 10, 10, 10, 0])
    assert len(r.trades) == 1


@SIMULATORS
def test_signal_on_last_bar(simulate, make_bars, make_signals) -> None:
    bars = make_bars([100, 100, 100])
    signals = make_signals(3, long_entry=[2])
    assert not simulate(bars, signals, EngineSettings()).position.any()  # next_open: no bar
    at_close = EngineSettings(fill="close")
    assert not simulate(bars, signals, at_close).position.any()  # would close at once
    r = simulate(bars, signals, at_close.replace(close_at_end=False))
    assert r.position[-1] == 100 and len(r.trades) == 0


@SIMULATORS
def test_close_at_end_false_leaves_the_position_open(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(cash=1000, fees=0.001, close_at_end=False)
    r = simulate(make_bars([100, 100, 110, 120]), make_signals(4, long_entry=[0]), settings)
    units = 1000 / (100 * 1.001)
    assert len(r.trades) == 0 and r.position[-1] == pytest.approx(units)
    assert r.equity[-1] == pytest.approx(units * 120)
    assert r.total_fees == pytest.approx(units * 100 * 0.001)


@SIMULATORS
def test_close_at_end_closes_at_the_last_close(simulate, make_bars, make_signals) -> None:
    settings = EngineSettings(cash=1000, fees=0.001, slippage=0.001)
    r = simulate(make_bars([100, 100, 110, 120]), make_signals(4, long_entry=[0]), settings)
    (t,) = r.trades
    assert t["exit_reason"] == ExitReason.end and t["exit_idx"] == 3
    assert t["exit_price"] == pytest.approx(120 * 0.999)
    assert r.position[-1] == 0 and r.equity[-1] == pytest.approx(1000 + t["pnl"])
