"""Use-cases shared by the CLI, the API and the workers.

Each takes a frozen spec (:mod:`tradesweep.specs`) and its collaborators (a dataset
registry, later a session factory) and returns a plain result object; nothing here prints,
parses arguments or speaks HTTP.
"""

from tradesweep.services.backtest import (
    BacktestReport,
    bars_needed,
    effective_settings,
    run_backtest_spec,
)

__all__ = [
    "BacktestReport",
    "bars_needed",
    "effective_settings",
    "run_backtest_spec",
]
