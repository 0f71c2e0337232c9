"""The HTML report as a file: self-contained, offline, and carrying the backtest's numbers.

The page is rendered in a real browser in ``test_html_browser.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradesweep.data import DatasetRegistry, synthetic_bars
from tradesweep.reports import write_html_report
from tradesweep.reports.html import MAX_CANDLES, MAX_POINTS, chart_figure, render_html_report
from tradesweep.services import BacktestReport, run_backtest_spec
from tradesweep.specs import BacktestSpec

NEVER_TRADES = """\
name: never
description: Enters only above an impossible price.
indicators:
  slow_ma: {type: sma, window: 5}
rules:
  long:
    entry:
      all:
        - ">": [close, 1000000000]
        - ">": [close, slow_ma]
"""


@pytest.fixture(scope="module")
def page(report: BacktestReport) -> str:
    return render_html_report(report)


def test_write_html_report_writes_the_page(report: BacktestReport, tmp_path: Path) -> None:
    path = write_html_report(report, tmp_path / "r.html")
    assert path == tmp_path / "r.html"
    assert path.read_text(encoding="utf-8") == render_html_report(report)


def test_plotly_js_is_inlined_once_and_nothing_is_fetched(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1
    assert len(page) > 1_000_000  # the library itself is in the file
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    # outside the scripts' code (plotly's bundle names map-tile URLs it never fetches here)
    markup = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", page, flags=re.DOTALL)
    assert markup.count("<script") == page.count("<script")
    assert not re.search(r"<link\b|@import|url\(", markup, re.IGNORECASE)
    assert not re.search(r"https?:|//[a-z]", markup, re.IGNORECASE)
    assert "cdn.plot.ly" not in markup


def test_title_names_ticker_strategy_and_params(page: str, report: BacktestReport) -> None:
    assert "<h1>GOOGL · sma_crossover (fast=10, slow=30)</h1>" in page
    assert report.spec_id in page
    assert "fees 0.1 %" in page and "stop loss 5 %" in page and "long_short" in page


def test_panels_and_tables_are_present(page: str, report: BacktestReport) -> None:
    for text in (
        'id="ts-charts"',
        'id="ts-monthly"',
        "Monthly returns [%]",
        "Total return [%]",
        "Max drawdown [%]",
        "pnl [%]",
        "exit reason",
    ):
        assert text in page
    trades_table = page.split('<table class="trades">', 1)[1]
    assert trades_table.count("<tr>") == report.metrics["total_trades"] + 1  # + header
    assert 'class="num gain"' in trades_table and 'class="num loss"' in trades_table
    assert 'class="long"' in trades_table and 'class="short"' in trades_table


def test_chart_has_candles_trades_equity_and_drawdown(report: BacktestReport) -> None:
    fig = chart_figure(report)
    kinds = [trace.type for trace in fig.data]
    names = [trace.name for trace in fig.data]
    assert kinds[0] == "candlestick"
    for name in ("long entry", "short entry", "winning exit", "losing exit", "strategy equity"):
        assert name in names
    assert "buy & hold" in names and "drawdown" in names
    entries = sum(len(t.x) for t in fig.data if t.name in ("long entry", "short entry"))
    assert entries == report.metrics["total_trades"]


def test_long_series_are_drawn_as_a_thinned_line(tmp_path: Path) -> None:
    registry = DatasetRegistry(tmp_path)
    n = max(MAX_CANDLES, MAX_POINTS) * 2 + 7
    registry.register_frame(synthetic_bars(n, seed=1, interval="1h"), "LONGSYN", synthetic=True)
    report = run_backtest_spec(BacktestSpec("LONGSYN", "sma_crossover"), registry=registry)
    fig = chart_figure(report)
    assert "candlestick" not in {trace.type for trace in fig.data}
    for trace in fig.data:
        if trace.mode == "lines":
            assert len(trace.x) <= MAX_POINTS + 1


def test_a_backtest_without_trades_still_renders(tmp_path: Path) -> None:
    strategy = tmp_path / "never.yaml"
    strategy.write_text(NEVER_TRADES)
    report = run_backtest_spec(BacktestSpec("GOOGL", str(strategy)))
    assert report.metrics["total_trades"] == 0
    page = render_html_report(report)
    assert "No closed trades." in page
    assert "n/a" in page  # e.g. the win rate of no trades
