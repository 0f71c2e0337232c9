"""Market data: load, validate and normalise OHLCV bars; samples; synthetic series; registry.

Every frame handed out follows the bars contract described in :mod:`tradesweep.data.contract`.
"""

from tradesweep.data.contract import ADJ_CLOSE, BAR_COLUMNS
from tradesweep.data.interval import infer_interval, interval_label, parse_rule
from tradesweep.data.loader import load_bars
from tradesweep.data.registry import DatasetInfo, DatasetRegistry, default_data_dir, load
from tradesweep.data.resample import resample_bars
from tradesweep.data.samples import load_sample, sample_tickers
from tradesweep.data.synth import synthetic_bars
from tradesweep.data.validate import validate_bars

__all__ = [
    "ADJ_CLOSE",
    "BAR_COLUMNS",
    "DatasetInfo",
    "DatasetRegistry",
    "default_data_dir",
    "infer_interval",
    "interval_label",
    "load",
    "load_bars",
    "load_sample",
    "parse_rule",
    "resample_bars",
    "sample_tickers",
    "synthetic_bars",
    "validate_bars",
]
