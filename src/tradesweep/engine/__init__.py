"""tradesweep.engine: signals -> orders -> fills -> positions -> equity and trades.

``run_backtest`` runs the numba kernel (:mod:`tradesweep.engine.nb`); ``simulate_reference``
runs the slow pure-Python oracle with the same conventions (docs/engine.md).
"""

from tradesweep.engine.backtest import run_backtest
from tradesweep.engine.enums import (
    EXIT_REASON_NAMES,
    Direction,
    ExitReason,
    FillMode,
    Side,
    SizeType,
    trade_dt,
)
from tradesweep.engine.reference import simulate_reference
from tradesweep.engine.result import BacktestResult
from tradesweep.engine.settings import EngineSettings

__all__ = [
    "EXIT_REASON_NAMES",
    "BacktestResult",
    "Direction",
    "EngineSettings",
    "ExitReason",
    "FillMode",
    "Side",
    "SizeType",
    "run_backtest",
    "simulate_reference",
    "trade_dt",
]
