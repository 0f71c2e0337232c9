"""Every table of every command fits an 80- and a 60-column terminal with no number cut: no
ellipsis, no line wider than the terminal, and every number the ``--json`` of the same run
gives appears whole in the text (or its column is named as left out for the width)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.metrics import KEYS, LABELS
from tradesweep.metrics.names import keys_shown_in
from tradesweep.reports.format import format_metric

WIDTHS = (80, 60)
SWEEP = ["-d", "GOOGL", "-s", "sma_crossover", "-r", "fast=5:50:5", "-r", "slow=20:200:10"]
WALK = [*SWEEP, "--train", "500", "--test", "200"]


@pytest.fixture
def run(tmp_path: Path) -> Any:
    runner = CliRunner()

    def invoke(args: list[str], width: int | None = None) -> str:
        env = {"TRADESWEEP_DATA_DIR": str(tmp_path / "datasets")}
        if width is not None:
            env["COLUMNS"] = str(width)
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    return invoke


def fits(text: str, width: int) -> str:
    assert "…" not in text, text
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert not wide, "\n".join(wide)
    return text


def hidden(text: str) -> str:
    """The captions that name columns left out for the width, joined."""
    flat = re.sub(r"\s+", " ", text)
    return " ".join(re.findall(r"not shown at this width: ([^(]*)\(", flat))


@pytest.mark.parametrize("width", WIDTHS)
def test_backtest_metrics_and_trades(run: Any, width: int) -> None:
    for data in ("GOOGL", "EURUSD"):  # daily and hourly timestamps
        args = ["backtest", "-d", data, "-s", "sma_crossover"]
        text = fits(run(args, width), width)
        out = json.loads(run([*args, "--json"]))
        for key in KEYS:
            assert format_metric(key, out["metrics"].get(key)) in text, key
        for trade in out["trades"][-5:]:
            assert f"{trade['pnl_pct']:+.2f}" in text
            assert f"{trade['entry_price']:,.2f}" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_sweep_top_rows_and_diagnostics(run: Any, width: int) -> None:
    text = fits(run(["sweep", *SWEEP, "--no-progress"], width), width)
    out = json.loads(run(["sweep", *SWEEP, "--no-progress", "--json"]))
    left_out = hidden(text)
    if width == 80:
        assert left_out == ""  # the standard sweep fits 80 columns whole
    for row in out["results"]:
        for name in ("fast", "slow"):
            assert f"{row['params'][name]:g}" in text
        assert format_metric("score", row["score"]) in text
        for key in keys_shown_in("sweep_summary"):
            if format_metric(key, row["metrics"].get(key)) not in text:
                assert LABELS[key] in left_out, (key, left_out)  # named as left out
    for part, key in (("deflated_sharpe", "dsr"), ("stability", "ratio"), ("pbo", "pbo")):
        assert f"{out['diagnostics'][part][key]:.2f}" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_walkforward_windows(run: Any, width: int) -> None:
    text = fits(run(["walkforward", *WALK, "--no-progress"], width), width)
    out = json.loads(run(["walkforward", *WALK, "--no-progress", "--json"]))
    for window in out["windows"]:
        oos = window["out_of_sample"]
        assert format_metric("total_return_pct", oos["total_return_pct"]) in text
        assert format_metric("sharpe_ratio", oos["sharpe_ratio"]) in text
        params = ", ".join(f"{k}={v:g}" for k, v in window["params"].items())
        assert set(params.split()) <= set(text.split())  # may wrap after a comma
    assert format_metric("total_return_pct", out["out_of_sample"]["total_return_pct"]) in text


@pytest.mark.parametrize("width", WIDTHS)
def test_strategies_list_and_show(run: Any, width: int) -> None:
    text = fits(run(["strategies", "list"], width), width)
    words = set(text.split())
    for info in json.loads(run(["strategies", "list", "--json"])):
        for p in info["parameters"]:
            assert {f"{p['name']}={p['default']}", f"{p['name']}={p['default']},"} & words
    text = fits(run(["strategies", "show", "bollinger"], width), width)
    words = set(text.split())
    for p in json.loads(run(["strategies", "show", "bollinger", "--json"]))["parameters"]:
        assert {f"[{p['min']},", f"{p['max']}]", str(p["default"])} <= words  # wraps at spaces


@pytest.mark.parametrize("width", WIDTHS)
def test_data_list_and_show(run: Any, width: int) -> None:
    text = fits(run(["data", "list"], width), width)
    assert "2,335" in text and "6,225" in text  # GOOGL's and EURUSD's rows
    text = fits(run(["data", "show", "EURUSD"], width), width)
    for price in ("1.05236", "1.20075", "1.19984"):  # first open, last close, last open
        assert price in text


@pytest.mark.parametrize("width", WIDTHS)
def test_demo(run: Any, width: int, tmp_path: Path) -> None:
    text = fits(run(["demo", "--html", str(tmp_path / "demo.html")], width), width)
    args = ["backtest", "-d", "GOOGL", "-s", "sma_crossover", "-p", "fast=10", "-p", "slow=30"]
    out = json.loads(run([*args, "--fees", "0.001", "--json"]))
    for key in KEYS:
        assert format_metric(key, out["metrics"].get(key)) in text, key
