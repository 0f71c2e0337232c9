"""A two-leg session's legs equal their separate backtests when each has its own allocation.

Leg 0 trades GOOGL (daily, sma_crossover 10/30) on 0.6 of the account's cash, leg 1 EURUSD
(4h, sma_crossover 5/20 long-short with a stop) on 0.4; their windows overlap and their
candles meet at midnight, so the merge and its tie-break are exercised. Each leg must equal
``run_backtest_spec`` of its spec with cash = account cash x allocation; the account's equity
must be the legs' equities summed, each carried forward where the leg has no candle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.data import DatasetRegistry
from tradesweep.paper.bus import FILLS, ORDERS, SIGNALS, SNAPSHOTS, InProcessBroker, candles_stream
from tradesweep.paper.pipeline import TRADE_FIELDS
from tradesweep.paper.session import Leg, PaperSessionError, SessionRun, run_session
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec

CASH = 50_000.0


@pytest.fixture
def registry(tmp_path: Path) -> DatasetRegistry:
    return DatasetRegistry(tmp_path / "data")


def _googl(cash: float = CASH, **settings: Any) -> BacktestSpec:
    return BacktestSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "start": "2016-06-01",
            "end": "2017-12-31",
            "settings": {
                "cash": cash,
                "fees": 0.001,
                "fixed_fee": 0.5,
                "slippage": 0.0005,
                "fill": "next_open",
                **settings,
            },
        }
    )


def _eurusd(cash: float = CASH) -> BacktestSpec:
    return BacktestSpec.from_dict(
        {
            "data": "EURUSD",
            "strategy": "sma_crossover",
            "params": {"fast": 5, "slow": 20},
            "start": "2017-03-01",
            "end": "2017-09-30",
            "timeframe": "4h",
            "settings": {"cash": cash, "direction": "long_short", "stop_loss": 0.004},
        }
    )


def _alone(spec: BacktestSpec, cash: float) -> BacktestSpec:
    data = spec.to_dict()
    data["settings"] = {**data["settings"], "cash": cash}
    return BacktestSpec.from_dict(data)


def _run(registry: DatasetRegistry, broker: InProcessBroker | None = None) -> SessionRun:
    legs = [Leg(_googl(), 0.6), Leg(_eurusd(), 0.4)]
    return run_session(legs, registry, broker, session_id="s-two")


def test_each_leg_equals_its_own_backtest_on_its_allocation(registry: DatasetRegistry) -> None:
    run = _run(registry)
    for leg_run, (spec, alloc) in zip(run.legs, [(_googl(), 0.6), (_eurusd(), 0.4)], strict=True):
        report = run_backtest_spec(_alone(spec, CASH * alloc), registry=registry)
        expected = report.trades_frame()[list(TRADE_FIELDS)].reset_index(drop=True)
        assert len(expected) >= 2, f"{spec.data} should trade"
        pd.testing.assert_frame_equal(
            leg_run.trades_frame(), expected, check_exact=True, check_dtype=False
        )
        equity = leg_run.equity_series()
        assert equity.index.equals(report.result.index)
        np.testing.assert_allclose(equity.to_numpy(), report.result.equity, rtol=0, atol=1e-9)
        assert all(s.drawdown <= 0.0 for s in leg_run.snapshots)


def test_the_account_is_the_legs_carried_forward(registry: DatasetRegistry) -> None:
    run = _run(registry)
    legs = [leg.equity_series() for leg in run.legs]
    times = legs[0].index.union(legs[1].index)
    account = run.equity_series()
    assert account.index.equals(times), "one account snapshot per candle time"
    assert legs[0].index.intersection(legs[1].index).size > 0, "the legs' candles should meet"
    summed = sum(
        leg.reindex(times).ffill().fillna(CASH * alloc)
        for leg, alloc in zip(legs, (0.6, 0.4), strict=True)
    )
    np.testing.assert_allclose(account.to_numpy(), np.asarray(summed), rtol=0, atol=1e-9)
    last = run.account[-1]
    assert abs(last.cash - sum(leg.snapshots[-1].cash for leg in run.legs)) < 1e-9
    assert all(s.drawdown <= 0.0 for s in run.account)


def test_a_partial_allocation_leaves_its_rest_as_cash(registry: DatasetRegistry) -> None:
    run = run_session([Leg(_googl(), 0.25)], registry)
    report = run_backtest_spec(_alone(_googl(), CASH * 0.25), registry=registry)
    expected = report.result.equity + CASH * 0.75
    np.testing.assert_allclose(run.equity_series().to_numpy(), expected, rtol=0, atol=1e-9)


def test_every_message_names_its_leg(registry: DatasetRegistry) -> None:
    broker = InProcessBroker()
    run = _run(registry, broker)
    for stream in (candles_stream("GOOGL"), candles_stream("EURUSD"), SIGNALS, ORDERS, FILLS):
        broker.ensure_group(stream, "t")
        entries = broker.read(stream, "t", "r", count=100_000)
        assert entries, f"nothing on {stream}"
        indexes = {e.message["leg_index"] for e in entries}
        if stream.startswith("candles."):
            assert indexes == {0 if stream.endswith("GOOGL") else 1}
        else:
            assert indexes == {0, 1}
    broker.ensure_group(SNAPSHOTS, "t")
    snaps = broker.read(SNAPSHOTS, "t", "r", count=100_000)
    account = [e.message for e in snaps if e.message["leg_index"] is None]
    assert [m["equity"] for m in account] == [s.equity for s in run.account]
    assert {e.message["leg"] for e in snaps} == {"leg0", "leg1", "account"}


@pytest.mark.parametrize(
    ("allocations", "bad", "words"),
    [
        ((0.6, 0.5), 1, "sum to 1.1"),
        ((0.0, 0.4), 0, "above 0"),
        ((0.5, -0.1), 1, "above 0"),
        ((0.5, float("nan")), 1, "above 0"),
    ],
)
def test_allocations_that_do_not_fit_are_refused(
    registry: DatasetRegistry, allocations: tuple[float, float], bad: int, words: str
) -> None:
    legs = [Leg(_googl(), allocations[0]), Leg(_eurusd(), allocations[1])]
    with pytest.raises(PaperSessionError) as info:
        run_session(legs, registry)
    message = str(info.value)
    assert f"leg{bad}" in message and words in message
    assert info.value.details["leg"] == bad and info.value.fix


def test_a_leg_with_another_account_cash_is_refused(registry: DatasetRegistry) -> None:
    with pytest.raises(PaperSessionError, match=r"leg1 .*settings\.cash"):
        run_session([Leg(_googl(), 0.5), Leg(_eurusd(cash=10_000.0), 0.5)], registry)
