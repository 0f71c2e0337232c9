"""tradesweep: backtest trading strategies and sweep their parameters."""

from tradesweep._kernel_cache import refresh as _refresh_kernel_cache
from tradesweep.errors import (
    DataError,
    DatasetNotFound,
    ParameterError,
    SettingsError,
    StrategyError,
    TradesweepError,
)

__version__ = "0.1.0"

# Before any kernel module loads: compiled kernels built from other kernel sources are deleted.
_refresh_kernel_cache()

__all__ = [
    "DataError",
    "DatasetNotFound",
    "ParameterError",
    "SettingsError",
    "StrategyError",
    "TradesweepError",
    "__version__",
]
