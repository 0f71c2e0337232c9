"""Aggregate bars to a coarser interval (1h -> 4h, 1D -> 1W, ...)."""

from __future__ import annotations

import pandas as pd

from tradesweep.data.contract import ADJ_CLOSE, TIME_UNIT
from tradesweep.data.interval import infer_interval, interval_label, parse_rule, rule_span
from tradesweep.data.validate import validate_bars
from tradesweep.errors import DataError

_AGGREGATION: dict[str, str] = {
    "open": "first",
    "high": "max",
    "low": "min",
    "close": "last",
    "volume": "sum",
    ADJ_CLOSE: "last",
}


def resample_bars(df: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Bars aggregated into periods of ``rule`` (see :func:`parse_rule` for spellings).

    Open is the first open, high the max, low the min, close (and adj_close) the last,
    volume the sum. Periods are closed on the left and labelled with their start (UTC);
    periods with no bars (weekends, holidays) are dropped, not filled. A rule finer than
    the data's own interval is refused. ``attrs`` are kept.
    """
    validate_bars(df)
    offset = parse_rule(rule)
    interval = infer_interval(df.index)
    if rule_span(offset) < interval:
        raise DataError(
            f"cannot resample {interval_label(interval)} bars to the finer rule {rule!r}",
            fix=f"choose a rule of at least {interval_label(interval)}",
            rule=rule,
            interval=interval_label(interval),
        )
    grouped = df.resample(offset, label="left", closed="left")
    bars = grouped.agg({c: _AGGREGATION[c] for c in df.columns})
    bars = bars[grouped["close"].count() > 0]
    # No freq on the index: loaded bars have none, and a gap-free result would otherwise differ.
    bars.index = pd.DatetimeIndex(bars.index.as_unit(TIME_UNIT), freq=None, name="timestamp")
    bars.attrs = dict(df.attrs)
    return bars
