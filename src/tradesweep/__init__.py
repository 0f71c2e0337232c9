"""tradesweep: backtest trading strategies and sweep their parameters."""

import os as _os

from tradesweep._kernel_cache import PACKAGE_DIR as _PACKAGE_DIR
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
# numba reads its cache variables from the process environment at import; so does this.
_refresh_kernel_cache(_PACKAGE_DIR, _os.environ)

__all__ = [
    "DataError",
    "DatasetNotFound",
    "ParameterError",
    "SettingsError",
    "StrategyError",
    "TradesweepError",
    "__version__",
]
