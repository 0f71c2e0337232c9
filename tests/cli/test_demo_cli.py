"""``tradesweep demo`` (what ``make run`` runs) through the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app


def test_demo_prints_metrics_and_the_sweep_and_writes_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("COLUMNS", "120")
    html = tmp_path / "reports" / "demo.html"
    result = CliRunner().invoke(app, ["demo", "--html", str(html)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "GOOGL · sma_crossover (fast=10, slow=30)" in out
    for label in ("Total return [%]", "Sharpe ratio", "Max drawdown [%]", "Trades"):
        assert label in out
    assert "demo sweep: top 5 of 41 fast/slow pairs by Sharpe" in out
    ranks = [line for line in out.splitlines() if line.startswith(("│ 1 ", "│ 5 "))]
    assert len(ranks) == 2
    assert f"HTML report: {html.resolve()}" in out.replace("\n", "")
    assert html.stat().st_size > 1_000_000
