"""Cross-check against backtesting.py (a test oracle only; never imported from src/).

An always-in-the-market SMA crossover: long on a cross up, short on a cross down, each order
sized at 99.99 % of equity, commission 0.2 % per fill, ``exclusive_orders=True`` (a new
order first closes the open trade), ``finalize_trades=True``. Our side: ``fill="next_open"``,
``direction="long_short"``, ``size=0.9999``, ``fractional=False`` (backtesting.py trades
whole units), ``fees=0.002``.

Systematic differences (docs/engine.md, "Cross-checks"): backtesting.py's
``finalize_trades`` closes the last trade at the last bar's *open*, we at its *close*; the
test flattens the last bar (open = high = low = close) in both inputs to compare the rest.
Both a large cash balance (1e9, where whole units hardly matter) and 10,000 (a few dozen
GOOGL shares) match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.strategies.base import Signals

backtesting = pytest.importorskip("backtesting")

COMMISSION = 0.002
SIZE = 0.9999
RTOL = 1e-9


def crossover_strategy(up: np.ndarray, down: np.ndarray) -> type:
    """A backtesting.py Strategy trading precomputed cross signals."""

    class Crossover(backtesting.Strategy):
        def init(self) -> None:
            self.up = self.I(lambda: up.astype(float), name="up", plot=False)
            self.down = self.I(lambda: down.astype(float), name="down", plot=False)

        def next(self) -> None:
            if self.up[-1] and not self.position.is_long:
                self.buy(size=SIZE)
            elif self.down[-1] and not self.position.is_short:
                self.sell(size=SIZE)

    return Crossover


def flatten_last_bar(bars: pd.DataFrame) -> pd.DataFrame:
    out = bars[["open", "high", "low", "close", "volume"]].copy()
    last = out.index[-1]
    out.loc[last, ["open", "high", "low"]] = out.loc[last, "close"]
    return out


def max_drawdown_pct(equity: np.ndarray) -> float:
    return float((equity / np.maximum.accumulate(equity) - 1).min() * 100)


@pytest.mark.parametrize("dataset", ["googl", "eurusd"])
@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (20, 50)])
@pytest.mark.parametrize("cash", [1e9, 10_000.0])
def test_sma_crossover_matches_backtesting_py(
    dataset, fast, slow, cash, request, sma_signals
) -> None:
    bars = flatten_last_bar(request.getfixturevalue(dataset))
    up, down = sma_signals(bars["close"], fast, slow)

    settings = EngineSettings(
        cash=cash,
        fees=COMMISSION,
        fill="next_open",
        direction="long_short",
        size=SIZE,
        fractional=False,
    )
    ours = run_backtest(bars, Signals(up, down, down, up), settings)

    frame = bars.rename(columns=str.capitalize)
    bt = backtesting.Backtest(
        frame,
        crossover_strategy(up, down),
        cash=cash,
        commission=COMMISSION,
        exclusive_orders=True,
        finalize_trades=True,
    )
    stats = bt.run()
    theirs = stats["_trades"]

    assert len(ours.trades) == stats["# Trades"] > 10
    assert ours.final_equity == pytest.approx(stats["Equity Final [$]"], rel=RTOL)
    np.testing.assert_allclose(ours.equity, stats["_equity_curve"]["Equity"], rtol=RTOL)
    win_rate = (ours.trades["pnl"] > 0).mean() * 100
    assert win_rate == pytest.approx(stats["Win Rate [%]"], abs=1e-9)
    assert max_drawdown_pct(ours.equity) == pytest.approx(stats["Max. Drawdown [%]"], rel=RTOL)
    # trade by trade
    np.testing.assert_array_equal(ours.trades["entry_idx"], theirs["EntryBar"])
    np.testing.assert_array_equal(ours.trades["exit_idx"], theirs["ExitBar"])
    np.testing.assert_array_equal(ours.trades["side"] * ours.trades["units"], theirs["Size"])
    np.testing.assert_allclose(ours.trades["entry_price"], theirs["EntryPrice"], rtol=RTOL)
    np.testing.assert_allclose(ours.trades["exit_price"], theirs["ExitPrice"], rtol=RTOL)
    np.testing.assert_allclose(ours.trades["pnl"], theirs["PnL"], rtol=RTOL, atol=1e-12 * cash)
