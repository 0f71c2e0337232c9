"""Reports of real backtests, built once per module."""

from __future__ import annotations

import pytest

from tradesweep.services import BacktestReport, run_backtest_spec
from tradesweep.specs import BacktestSpec


@pytest.fixture(scope="module")
def report() -> BacktestReport:
    """sma_crossover on GOOGL, long and short, with a stop: both sides and several exits."""
    spec = BacktestSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "settings": {"fees": 0.001, "direction": "long_short", "stop_loss": 0.05},
        }
    )
    return run_backtest_spec(spec)
