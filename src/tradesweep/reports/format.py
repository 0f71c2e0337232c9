"""How a metric value reads for people: one text per value and whether it is a gain or a loss.

Shared by the CLI tables and the HTML report so both show the same numbers. The units are in
the labels (:data:`tradesweep.metrics.LABELS`, e.g. ``Total return [%]``), not in the values.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

Tone = Literal["gain", "loss"] | None

_SIGNED = frozenset(
    {
        "total_return_pct",
        "buy_and_hold_return_pct",
        "annualized_return_pct",
        "expectancy_pct",
        "avg_trade_pct",
        "best_trade_pct",
        "worst_trade_pct",
        "avg_win",
        "avg_loss",
        "largest_win",
        "largest_loss",
    }
)
_RATIOS = frozenset({"sharpe_ratio", "sortino_ratio", "calmar_ratio"})
_DRAWDOWNS = frozenset({"max_drawdown_pct", "avg_drawdown_pct"})
_COUNTS = frozenset({"bars", "total_trades", "stop_and_target_same_bar"})
_CASH = frozenset({"final_equity", "total_fees"})

MISSING = "n/a"


def format_metric(key: str, value: Any) -> str:
    """``value`` of metric ``key`` as text: signed returns (``+12.34``), ratios to two decimals,
    cash with thousands separators, timestamps as dates, ``n/a`` for null."""
    if value is None:
        return MISSING
    if key in ("start", "end"):
        return format_time(value)
    if isinstance(value, str):
        return value
    if key in _COUNTS:
        return f"{int(value):,}"
    if key == "periods_per_year":
        return f"{value:,.6g}"
    if key in _SIGNED:
        return f"{value:+,.2f}"
    if key in _CASH or key in _DRAWDOWNS or key in _RATIOS:
        return f"{value:,.2f}"
    if key.endswith("_days"):
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def metric_tone(key: str, value: Any, *, initial_cash: float | None = None) -> Tone:
    """``"gain"`` or ``"loss"`` where the sign of a metric is good or bad news, else None."""
    if value is None or isinstance(value, str):
        return None
    if key in _SIGNED or key in _RATIOS:
        return _sign_tone(value)
    if key in _DRAWDOWNS:
        return "loss" if value < 0 else None
    if key == "profit_factor":
        return _sign_tone(value - 1.0)
    if key == "final_equity" and initial_cash is not None:
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
