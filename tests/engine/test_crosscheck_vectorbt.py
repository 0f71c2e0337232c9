"""Cross-check against vectorbt's ``Portfolio.from_signals`` (a test oracle only).

Long-only, all-in (vectorbt's default ``size=np.inf``), filled at the signal bar's close:
our ``fill="close"``, ``direction="long_only"``, fractional units. vectorbt leaves the last
position open, so we run with ``close_at_end=False`` and count its open trade too. Its
defaults ``upon_long_conflict="ignore"`` and stops priced off the entry close match our
conventions (docs/engine.md, "Cross-checks").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.strategies.base import Signals

vbt = pytest.importorskip("vectorbt")

pytestmark = pytest.mark.slow  # the oracle compiles its kernels on first use

RTOL = 1e-9
CASH = 10_000.0


def rsi_signals(close: pd.Series, period: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Enter when Wilder's RSI crosses up through 30, exit when it crosses down through 70."""
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    loss = (-delta).clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    rsi = 100 - 100 / (1 + gain / loss)
    entry = (rsi > 30) & (rsi.shift(1) <= 30)
    exit_ = (rsi < 70) & (rsi.shift(1) >= 70)
    return entry.to_numpy(), exit_.to_numpy()


def random_signals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense random entries and exits; about one bar in 400 fires both (they cancel)."""
    rng = np.random.default_rng(seed)
    return rng.random(n) < 0.05, rng.random(n) < 0.05


def signal_sets(bars: pd.DataFrame, sma_signals) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    close = bars["close"]
    return {
        "sma_10_30": sma_signals(close, 10, 30),
        "sma_20_50": sma_signals(close, 20, 50),
        "sma_5_100": sma_signals(close, 5, 100),
        "rsi_14": rsi_signals(close),
        "random": random_signals(len(bars), seed=42),
    }


def max_drawdown(equity: np.ndarray) -> float:
    return float((equity / np.maximum.accumulate(equity) - 1).min())


def ours(bars, entries, exits, **settings) -> object:
    none = np.zeros(len(bars), dtype=np.bool_)
    engine_settings = EngineSettings(cash=CASH, fill="close", close_at_end=False, **settings)
    return run_backtest(bars, Signals(entries, exits, none, none), engine_settings)


def assert_matches(result, portfolio) -> None:
    value = portfolio.value().to_numpy()
    open_trades = int(result.position[-1] != 0)
    assert len(result.trades) + open_trades == portfolio.trades.count()
    assert result.final_equity == pytest.approx(value[-1], rel=RTOL)
    np.testing.assert_allclose(result.equity, value, rtol=RTOL)
    assert max_drawdown(result.equity) == pytest.approx(portfolio.max_drawdown(), rel=RTOL)
    assert max_drawdown(result.equity) == pytest.approx(max_drawdown(value), rel=RTOL)


@pytest.mark.parametrize("dataset", ["googl", "eurusd"])
@pytest.mark.parametrize("fees", [0.001, 0.002])
def test_signals_match_vectorbt(dataset, fees, request, sma_signals) -> None:
    bars = request.getfixturevalue(dataset)
    for name, (entries, exits) in signal_sets(bars, sma_signals).items():
        result = ours(bars, entries, exits, fees=fees)
        portfolio = vbt.Portfolio.from_signals(
            bars["close"], entries, exits, fees=fees, init_cash=CASH
        )
        assert len(result.trades) > 5, name
        assert_matches(result, portfolio)


@pytest.mark.parametrize("dataset", ["googl", "eurusd"])
def test_slippage_and_fixed_fees_match_vectorbt(dataset, request, sma_signals) -> None:
    bars = request.getfixturevalue(dataset)
    entries, exits = sma_signals(bars["close"], 10, 30)
    result = ours(bars, entries, exits, fees=0.001, fixed_fee=1.0, slippage=0.0005)
    portfolio = vbt.Portfolio.from_signals(
        bars["close"],
        entries,
        exits,
        fees=0.001,
        fixed_fees=1.0,
        slippage=0.0005,
        init_cash=CASH,
    )
    assert_matches(result, portfolio)


STOPS = [
    ({"stop_loss": 0.05}, {"sl_stop": 0.05}),
    ({"take_profit": 0.05}, {"tp_stop": 0.05}),
    ({"stop_loss": 0.03, "take_profit": 0.06}, {"sl_stop": 0.03, "tp_stop": 0.06}),
    ({"trailing_stop": 0.04}, {"sl_stop": 0.04, "sl_trail": True}),
]
STOP_SCALE = {"googl": 1.0, "eurusd": 0.1}  # hourly FX moves a tenth as much


def scaled(stops: dict, factor: float) -> dict:
    return {k: v * factor if isinstance(v, float) else v for k, v in stops.items()}


@pytest.mark.parametrize("dataset", ["googl", "eurusd"])
@pytest.mark.parametrize(("our_stops", "vbt_stops"), STOPS)
def test_stops_match_vectorbt(dataset, our_stops, vbt_stops, request, sma_signals) -> None:
    """Without slippage (vectorbt fills stops at the level with no slippage by default)."""
    bars = request.getfixturevalue(dataset)
    entries, exits = sma_signals(bars["close"], 10, 30)
    our_stops = scaled(our_stops, STOP_SCALE[dataset])
    vbt_stops = scaled(vbt_stops, STOP_SCALE[dataset])
    result = ours(bars, entries, exits, fees=0.001, **our_stops)
    portfolio = vbt.Portfolio.from_signals(
        bars["close"],
        entries,
        exits,
        open=bars["open"],
        high=bars["high"],
        low=bars["low"],
        fees=0.001,
        init_cash=CASH,
        **vbt_stops,
    )
    assert (result.trades["exit_reason"] != 0).sum() >= 3  # the stops did fire
    assert_matches(result, portfolio)
