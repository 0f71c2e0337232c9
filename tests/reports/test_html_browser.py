"""The HTML report rendered in real headless Chromium (Debian's, never a downloaded one).

Offline: every request the page makes must be to a file:, data: or blob: URL, and any other
request is aborted and reported. A screenshot lands in ``test-artifacts/`` for a human look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tradesweep.reports import write_html_report
from tradesweep.services import BacktestReport

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL = ("file:", "data:", "blob:", "about:")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_report_renders_offline_without_errors(
    browser: Any, report: BacktestReport, tmp_path: Path
) -> None:
    path = write_html_report(report, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    remote: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r: Any) -> None:
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("request", lambda req: None if req.url.startswith(LOCAL) else remote.append(req.url))
    page.goto(path.as_uri(), wait_until="load")
    assert remote == []  # before waiting: a blocked plotly.js would never draw
    page.wait_for_selector("#ts-monthly .main-svg", timeout=15_000)
    assert errors == []
    assert remote == []
    assert page.locator(".js-plotly-plot").count() == 2
    for div in ("#ts-charts", "#ts-monthly"):
        assert page.locator(f"{div} svg.main-svg").count() >= 1
    # candles, trade markers and heatmap cells were drawn, not just empty axes
    trades = report.metrics["total_trades"]
    assert page.locator("#ts-charts .trace.boxes").count() == 1  # the candlestick trace
    assert page.locator("#ts-charts .scatterlayer .point").count() == 2 * trades  # in + out
    assert page.locator("#ts-monthly .hm image").count() == 1  # the heatmap's bitmap
    assert page.title().startswith("GOOGL · sma_crossover (fast=10, slow=30)")
    assert page.locator("table.trades tbody tr").count() == trades
    assert page.locator("table.metrics td.gain").count() >= 1
    assert page.locator("table.metrics td.loss").count() >= 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "backtest-report.png"), full_page=True)
    page.close()
