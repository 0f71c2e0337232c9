"""tradesweep: backtest trading strategies and sweep their parameters."""

from tradesweep.errors import (
    DataError,
    DatasetNotFound,
    ParameterError,
    SettingsError,
    StrategyError,
    TradesweepError,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DatasetNotFound",
    "ParameterError",
    "SettingsError",
    "StrategyError",
    "TradesweepError",
    "__version__",
]
