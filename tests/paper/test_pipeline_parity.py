"""A replayed paper session equals the backtest of the same spec, trade for trade.

GOOGL (the bundled daily sample) goes through ReplaySource -> StrategyEngine -> PaperExecutor
-> Portfolio in process; ``run_backtest_spec`` runs the same spec; trades must match exactly
and the equity curve to 1e-9.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import DatasetRegistry
from tradesweep.engine import EngineSettings
from tradesweep.paper.bus import FILLS, ORDERS, SIGNALS, SNAPSHOTS, InProcessBroker, candles_stream
from tradesweep.paper.candles import Candle
from tradesweep.paper.engine import Signal, StrategyEngine
from tradesweep.paper.executor import PaperExecutor
from tradesweep.paper.pipeline import TRADE_FIELDS, run_paper
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec
from tradesweep.strategies import SignalFlag, get_strategy


@pytest.fixture
def registry(tmp_path: Path) -> DatasetRegistry:
    return DatasetRegistry(tmp_path / "data")


def _spec(
    data: str = "GOOGL", window: dict[str, str] | None = None, **settings: Any
) -> BacktestSpec:
    return BacktestSpec.from_dict(
        {
            **(window or {}),
            "data": data,
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "settings": {"fees": 0.001, "fixed_fee": 0.5, "slippage": 0.0005, **settings},
        }
    )


def _assert_parity(
    spec: BacktestSpec, registry: DatasetRegistry, reasons: frozenset[str] = frozenset()
) -> None:
    report = run_backtest_spec(spec, registry=registry)
    run = run_paper(spec, registry)
    expected = report.trades_frame()[list(TRADE_FIELDS)].reset_index(drop=True)
    got = run.trades_frame()
    assert len(expected) >= 2, "the case should trade"
    assert reasons <= set(expected["exit_reason"]), "the case should exercise its rules"
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    equity = run.equity_series()
    assert equity.index.equals(report.result.index)
    np.testing.assert_allclose(equity.to_numpy(), report.result.equity, rtol=0, atol=1e-9)
    held = [snap.positions.get("leg0", 0.0) for snap in run.snapshots]
    np.testing.assert_array_equal(held, report.result.position)
    realized = np.cumsum(report.result.trades["pnl"])[-1]
    assert abs(run.snapshots[-1].realized_pnl - realized) < 1e-9
    assert all(s.drawdown <= 0.0 for s in run.snapshots)
    signal_orders = [o for o in run.orders if o.order_id.count(":") == 2]
    assert len({o.order_id for o in run.orders}) == len(run.orders)
    assert signal_orders, "signal orders are recorded"


CASES = {
    "next_open": {"fill": "next_open"},
    "close": {"fill": "close"},
    "next_open-stops": {"fill": "next_open", "stop_loss": 0.03, "take_profit": 0.08},
    "close-stops": {"fill": "close", "stop_loss": 0.03, "take_profit": 0.08},
    "trailing": {"fill": "next_open", "trailing_stop": 0.05},
    "atr-stops": {"fill": "close", "stop_loss_atr": 2.0, "trailing_stop_atr": 3.0},
    "atr-stops-next_open": {"fill": "next_open", "stop_loss_atr": 1.5, "take_profit_atr": 4.0},
    "drawdown-guard": {"fill": "next_open", "max_drawdown": 0.15},
    "units-sizing": {"fill": "next_open", "size_type": "units", "size": 7, "fractional": False},
}
REASONS = {
    "next_open-stops": frozenset({"stop_loss", "take_profit", "signal"}),
    "close-stops": frozenset({"stop_loss", "take_profit", "signal"}),
    "trailing": frozenset({"trailing_stop"}),
    "atr-stops": frozenset({"trailing_stop", "stop_loss"}),
    "atr-stops-next_open": frozenset({"stop_loss", "take_profit"}),
    "drawdown-guard": frozenset({"max_drawdown"}),
}


@pytest.mark.parametrize("direction", ["long_only", "long_short", "short_only"])
@pytest.mark.parametrize("case", list(CASES))
def test_googl_replay_equals_the_backtest(
    registry: DatasetRegistry, case: str, direction: str
) -> None:
    _assert_parity(
        _spec(direction=direction, **CASES[case]), registry, REASONS.get(case, frozenset())
    )


def test_a_window_and_a_timeframe_replay_like_the_backtest(registry: DatasetRegistry) -> None:
    spec = BacktestSpec.from_dict(
        {
            "data": "EURUSD",
            "strategy": "sma_crossover",
            "params": {"fast": 5, "slow": 20},
            "settings": {"direction": "long_short", "stop_loss": 0.004},
            "start": "2017-03-01",
            "end": "2017-09-30",
            "timeframe": "4h",
        }
    )
    _assert_parity(spec, registry)


def test_every_kind_of_message_is_published(registry: DatasetRegistry) -> None:
    broker = InProcessBroker()
    spec = _spec(window={"end": "2012-12-31"}, fill="next_open")
    run = run_paper(spec, registry, broker)
    streams = {
        candles_stream("GOOGL"): "close",
        SIGNALS: "flags",
        ORDERS: "order_id",
        FILLS: "price",
        SNAPSHOTS: "equity",
    }
    for stream, key in streams.items():
        broker.ensure_group(stream, "test")
        entries = broker.read(stream, "test", "reader", count=10_000)
        assert entries, f"nothing on {stream}"
        assert key in entries[0].message
    broker.ensure_group(ORDERS, "count")
    orders = broker.read(ORDERS, "count", "reader", count=10_000)
    assert [e.message["order_id"] for e in orders] == [o.order_id for o in run.orders]


def _replay(candles: list[Candle], deliveries: int) -> tuple[list[Any], list[Any]]:
    engine = StrategyEngine("leg0", get_strategy("sma_crossover", {"fast": 5, "slow": 20}))
    executor = PaperExecutor("s1", "leg0", EngineSettings(fill="next_open", stop_loss=0.02))
    orders: list[Any] = []
    fills: list[Any] = []
    for candle in candles:
        for _ in range(deliveries):
            signal = engine.on_candle(candle)
            if signal is None:  # the engine saw it already; a redelivered signal, even new:
                signal = Signal("leg0", candle.time, SignalFlag.LONG_ENTRY)
            done = executor.execute(candle, signal)
            orders += done.orders
            fills += done.fills
    return orders, fills


def test_a_redelivered_candle_makes_no_second_order(registry: DatasetRegistry) -> None:
    bars = registry.load("GOOGL").iloc[:400]
    columns = ("open", "high", "low", "close", "volume")
    candles = [
        Candle("GOOGL", "1d", t, *(float(bars[c].iloc[i]) for c in columns))
        for i, t in enumerate(bars.index)
    ]
    once = _replay(candles, 1)
    twice = _replay(candles, 2)
    assert once[0] and once[1]
    assert twice == once
    orders = once[0]
    assert len({o.order_id for o in orders}) == len(orders)
    assert all(o.order_id.startswith("s1:leg0:") for o in orders)


def test_history_warms_the_engine_up_before_the_first_live_candle(
    registry: DatasetRegistry,
) -> None:
    bars = registry.load("GOOGL").iloc[:300]
    columns = ("open", "high", "low", "close", "volume")
    candles = [
        Candle("GOOGL", "1d", t, *(float(bars[c].iloc[i]) for c in columns))
        for i, t in enumerate(bars.index)
    ]
    strategy = get_strategy("sma_crossover", {"fast": 5, "slow": 20})
    expected = strategy.signals(bars).flags()
    engine = StrategyEngine("leg0", strategy, history=candles[:100])
    assert engine.warmed_up == 100
    flags = []
    for candle in candles[100:]:
        signal = engine.on_candle(candle)
        assert signal is not None
        flags.append(int(signal.flags))
    np.testing.assert_array_equal(flags, expected[100:])
    assert engine.on_candle(candles[50]) is None  # history is not replayed as live
