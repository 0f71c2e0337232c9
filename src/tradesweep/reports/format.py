"""How a metric value reads for people: one text per value and whether it is a gain or a loss.

Shared by the CLI tables and the HTML report so both show the same numbers; both follow the
metric table (:mod:`tradesweep.metrics.table`), as the dashboard does through the catalog. The
units are in the labels (``Total return [%]``), not in the values.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from tradesweep.metrics.table import metric_of

Tone = Literal["gain", "loss"] | None

MISSING = "n/a"


def format_metric(key: str, value: Any) -> str:
    """``value`` of metric ``key`` as text, as its row of the metric table says: signed values
    with ``+`` (``+12.34``), the row's decimals with thousands separators, counts as integers,
    timestamps as dates, ``n/a`` for null. A name that is not a metric: two decimals."""
    if value is None:
        return MISSING
    metric = metric_of(key)
    if metric is not None and metric.unit == "date":
        return format_time(value)
    if isinstance(value, str):
        return value
    if metric is None:
        return f"{value:,.2f}"
    if metric.unit == "count":
        return f"{int(value):,}"
    if metric.decimals is None:
        return f"{value:,.6g}"
    return f"{value:{'+' if metric.signed else ''},.{metric.decimals}f}"


def metric_tone(key: str, value: Any, *, initial_cash: float | None = None) -> Tone:
    """``"gain"`` or ``"loss"`` where the row's tone rule reads the value as good or bad news,
    else None (also for a name that is not a metric)."""
    metric = metric_of(key)
    if metric is None or value is None or isinstance(value, str):
        return None
    if metric.tone == "sign":
        return _sign_tone(value)
    if metric.tone == "above_one":
        return _sign_tone(value - 1.0)
    if metric.tone == "above_cash" and initial_cash is not None:
        return _sign_tone(value - initial_cash)
    return None


def format_time(value: Any) -> str:
    """A timestamp as ``2009-05-22`` at midnight UTC, else ``2017-01-01 22:00``."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def _sign_tone(value: float) -> Tone:
    if value > 0:
        return "gain"
    if value < 0:
        return "loss"
    return None
