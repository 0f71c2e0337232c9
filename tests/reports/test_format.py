"""Metric values as people read them, shared by the CLI and the HTML report."""

from __future__ import annotations

import pandas as pd
import pytest

from tradesweep.metrics import KEYS
from tradesweep.metrics.table import METRICS, Metric
from tradesweep.reports import format_metric, format_time, metric_tone


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("total_return_pct", 12.345, "+12.35"),
        ("total_return_pct", -3.0, "-3.00"),
        ("max_drawdown_pct", -25.9131, "-25.91"),
        ("sharpe_ratio", 0.5067, "0.51"),
        ("final_equity", 20251.136, "20,251.14"),
        ("avg_win", 1207.919, "+1,207.92"),
        ("bars", 2335, "2,335"),
        ("periods_per_year", 252.0, "252"),
        ("periods_per_year", 8760.0, "8,760"),
        ("max_drawdown_duration_days", 783.0, "783.0"),
        ("avg_trade_duration", "34.4 days", "34.4 days"),
        ("score", 0.51234, "0.512"),
        ("annualized_return", 7.0, "+7.00"),
        ("profit_factor", None, "n/a"),
        ("start", "2009-05-22T00:00:00+00:00", "2009-05-22"),
        ("end", "2017-01-01T22:00:00+00:00", "2017-01-01 22:00"),
    ],
)
def test_format_metric(key: str, value: object, text: str) -> None:
    assert format_metric(key, value) == text


@pytest.mark.parametrize(
    ("key", "value", "tone"),
    [
        ("total_return_pct", 1.0, "gain"),
        ("total_return_pct", -1.0, "loss"),
        ("total_return_pct", 0.0, None),
        ("sharpe_ratio", -0.2, "loss"),
        ("max_drawdown_pct", -10.0, "loss"),
        ("max_drawdown_pct", 0.0, None),
        ("profit_factor", 1.5, "gain"),
        ("profit_factor", 0.7, "loss"),
        ("win_rate_pct", 40.0, None),
        ("sharpe_ratio", None, None),
    ],
)
def test_metric_tone(key: str, value: object, tone: str | None) -> None:
    assert metric_tone(key, value) == tone


def test_final_equity_tone_needs_the_initial_cash() -> None:
    assert metric_tone("final_equity", 9_000.0) is None
    assert metric_tone("final_equity", 9_000.0, initial_cash=10_000.0) == "loss"
    assert metric_tone("final_equity", 11_000.0, initial_cash=10_000.0) == "gain"


def test_every_metric_formats() -> None:
    for key in KEYS:
        assert format_metric(key, None) == "n/a"


@pytest.mark.parametrize("row", [m for m in METRICS if m.unit not in ("date", "text")])
def test_numbers_follow_their_row_of_the_metric_table(row: Metric) -> None:
    text = format_metric(row.key, 1234.5)
    digits = len(text.split(".")[1]) if "." in text else 0
    assert digits == (row.decimals if row.decimals is not None else 1)
    assert text.startswith("+") == row.signed
    assert "1,234" in text
    assert metric_tone(row.key, -5.0, initial_cash=10.0) == (None if row.tone == "none" else "loss")


def test_format_time_converts_to_utc() -> None:
    assert format_time(pd.Timestamp("2020-01-01 01:30", tz="Europe/Paris")) == "2020-01-01 00:30"
