"""``tradesweep sweep`` and ``tradesweep walkforward`` through the real app: JSON on stdout,
exit codes, one-line errors, the files they write, and the HTML report in a real browser."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.data import load_sample

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SMALL = ["-r", "fast=10:20:5", "-r", "slow=20:30:5"]  # 9 grid points, 8 valid
BASE = ["sweep", "-d", "GOOGL", "-s", "sma_crossover", "--no-progress"]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    return CliRunner()


def run_json(runner: CliRunner, args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout  # exactly one JSON object, nothing else on stdout
    return json.loads(lines[0])


def one_line_error(runner: CliRunner, args: list[str], *words: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert not result.stdout.strip()
    return lines[0]


# ---- sweep ------------------------------------------------------------------------------------


def test_the_progress_bar_names_the_diagnostics_phase(tmp_path: Path) -> None:
    """On a terminal (a real pseudo-terminal on stderr) the bar says what runs after the
    evaluation instead of a finished count."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "TRADESWEEP_DATA_DIR": str(tmp_path / "datasets"), "COLUMNS": "100"}
    args = [a for a in BASE if a != "--no-progress"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tradesweep", *args, *SMALL],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal's last writer exited
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait(120) == 0
    assert process.stdout is not None
    process.stdout.close()
    text = seen.decode(errors="replace")
    assert "sweep: diagnostics…" in text, text[-2000:]


def test_sweep_json_shape_and_counts(runner: CliRunner) -> None:
    out = run_json(runner, [*BASE, *SMALL, "--json", "--top", "3"])
    assert (out["grid_combinations"], out["valid_combinations"], out["evaluated"]) == (9, 8, 8)
    assert [row["rank"] for row in out["results"]] == [1, 2, 3]
    assert set(out["results"][0]) >= {"params", "metrics", "score", "rank"}
    assert set(out["diagnostics"]) >= {"deflated_sharpe", "stability", "pbo"}
    assert out["spec"]["search"] == "grid" and out["spec"]["min_trades"] == 1


def test_sweep_flags_reach_the_spec(runner: CliRunner) -> None:
    out = run_json(
        runner,
        [
            *BASE,
            "-r",
            "fast=5:30:5",
            "-r",
            "slow=20:60:10",
            "--constraint",
            "slow >= 2*fast",
            "--search",
            "random",
            "--trials",
            "6",
            "--seed",
            "3",
            "--objective",
            "sharpe_ratio",
            "--min-trades",
            "10",
            "--fees",
            "0.002",
            "--slippage",
            "0.001",
            "--fill",
            "close",
            "--whole-units",
            "--json",
        ],
    )
    spec = out["spec"]
    assert (spec["search"], spec["trials"], spec["seed"], spec["objective"]) == (
        "random",
        6,
        3,
        "sharpe_ratio",
    )
    assert spec["constraint"] == "slow >= 2*fast" and spec["min_trades"] == 10
    settings = spec["settings"]
    assert (settings["fees"], settings["slippage"], settings["fill"]) == (0.002, 0.001, "close")
    assert settings["fractional"] is False
    assert out["evaluated"] == 6
    assert all(r["params"]["slow"] >= 2 * r["params"]["fast"] for r in out["results"])
    sharpe = [r["metrics"]["sharpe_ratio"] for r in out["results"]]
    assert sharpe == sorted(sharpe, reverse=True)


def test_cli_flags_override_the_preset(runner: CliRunner) -> None:
    out = run_json(runner, [*BASE, *SMALL, "--preset", "standard", "--fees", "0.002", "--json"])
    spec = out["spec"]
    assert spec["preset"] == "standard" and spec["min_trades"] == 20
    assert (spec["settings"]["fees"], spec["settings"]["slippage"]) == (0.002, 0.0005)
    out = run_json(runner, [*BASE, *SMALL, "--preset", "standard", "--min-trades", "2", "--json"])
    assert out["spec"]["min_trades"] == 2 and out["spec"]["settings"]["fees"] == 0.001


def test_default_output_is_a_table_with_diagnostics(runner: CliRunner) -> None:
    result = runner.invoke(app, [*BASE, *SMALL])
    assert result.exit_code == 0, result.output
    for text in ("grid search: 9 combinations, 8 valid, 8 evaluated", "top 10 by score"):
        assert text in result.stdout
    for text in ("Deflated Sharpe", "Stability", "PBO", "rank", "fast", "slow"):
        assert text in result.stdout


def test_csv_and_parquet_hold_every_row(runner: CliRunner, tmp_path: Path) -> None:
    csv, parquet = tmp_path / "out" / "rows.csv", tmp_path / "rows.parquet"
    result = runner.invoke(
        app, [*BASE, *SMALL, "--top", "2", "--csv", str(csv), "--parquet", str(parquet), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {csv}" in result.stderr and f"wrote {parquet}" in result.stderr
    rows = pd.read_csv(csv)
    assert len(rows) == 8 and len(pd.read_parquet(parquet)) == 8
    assert {"fast", "slow", "sharpe_ratio", "score", "rank", "below_min_trades"} <= set(rows)
    assert len(json.loads(result.stdout)["results"]) == 2
    googl = load_sample("GOOGL")
    assert set(rows["start"]) == {googl.index[0].isoformat()}
    assert set(rows["end"]) == {googl.index[-1].isoformat()}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-r", "fast=5:50:x"], ["'fast'", "not a number"]),
        (["-r", "fats=5:50:5"], ["unknown parameter 'fats'", "did you mean 'fast'"]),
        (["-r", "fast=1:10"], ["outside its bounds"]),
        (
            ["-r", "fast=2:500", "-r", "slow=3:1000:2", "--max-combinations", "100000"],
            ["249,001 combinations, above the limit of 100,000", "--search random"],
        ),
        ([*SMALL, "--search", "grdi"], ["did you mean 'grid'"]),
        ([*SMALL, "--trials", "5"], ["only applies to a random or Bayesian search"]),
        ([*SMALL, "--objective", "sharpe"], ["unknown objective"]),
        ([*SMALL, "--preset", "standrad"], ["did you mean 'standard'"]),
        ([*SMALL, "--fees", "2"], ["'fees'", "outside its allowed range"]),
        ([*SMALL, "--constraint", "slow >= __import__('os')"], ["constraint"]),
        ([*SMALL, "--heatmap", "fast"], ["--heatmap", "two different parameters"]),
    ],
)
def test_sweep_errors_are_one_line_and_exit_2(
    runner: CliRunner, args: list[str], words: list[str]
) -> None:
    one_line_error(runner, [*BASE, *args], *words)


def test_missing_ranges_are_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, BASE)
    assert result.exit_code == 2 and "Missing option '--range'" in result.output


def test_a_preset_file_with_an_unknown_key_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("fees: 0.001\nslipage: 0.001\n")
    line = one_line_error(runner, [*BASE, *SMALL, "--preset", str(path)], "slipage", "slippage")
    assert str(path) in line


# ---- walkforward ------------------------------------------------------------------------------

WF = [
    "walkforward",
    "-d",
    "GOOGL",
    "-s",
    "sma_crossover",
    "-r",
    "fast=5:20:5",
    "-r",
    "slow=20:60:20",
    "--no-progress",
]


def test_walkforward_json_shape(runner: CliRunner) -> None:
    out = run_json(runner, [*WF, "--train-bars", "600", "--test-bars", "400", "--json"])
    assert [w["window"] for w in out["windows"]] == [1, 2, 3, 4]
    assert out["unused_bars"] == 2335 - 600 - 4 * 400
    first = out["windows"][0]
    assert first["train"]["bars"] == 600 and first["test"]["bars"] == 400
    assert set(first["params"]) == {"fast", "slow"}
    assert {"in_sample", "out_of_sample", "evaluated"} <= set(first)
    assert out["out_of_sample"]["bars"] == 1600
    assert set(out["efficiency"]) == {
        "value",
        "oos_annualized_return_pct",
        "is_annualized_return_pct",
        "reason",
    }
    assert out["spec"]["train_bars"] == 600 and out["spec"]["step_bars"] == 400


def test_walkforward_table_and_files(runner: CliRunner, tmp_path: Path) -> None:
    equity = tmp_path / "oos.csv"
    html = tmp_path / "wf.html"
    args = [*WF, "--train-bars", "600", "--test-bars", "400", "--anchored", "--step-bars", "500"]
    result = runner.invoke(app, [*args, "--equity-csv", str(equity), "--html", str(html)])
    assert result.exit_code == 0, result.output
    assert "anchored walk-forward: 3 windows" in result.stdout
    assert "walk-forward efficiency" in result.stdout
    frame = pd.read_csv(equity)
    assert list(frame.columns) == ["timestamp", "equity", "position"] and len(frame) == 1200
    assert "Plotly" in html.read_text(encoding="utf-8")


def test_walkforward_errors(runner: CliRunner) -> None:
    one_line_error(
        runner, [*WF, "--train-bars", "2000", "--test-bars", "400"], "too few for one window"
    )
    one_line_error(
        runner, [*WF, "--train-bars", "600", "--test-bars", "400", "--step-bars", "100"], "overlap"
    )


# ---- HTML in a browser ------------------------------------------------------------------------

BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_sweep_html_renders_offline_in_chromium(runner: CliRunner, tmp_path: Path) -> None:
    if shutil.which("chromium") is None and not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    html = tmp_path / "sweep.html"
    result = runner.invoke(
        app,
        [
            *BASE,
            "-r",
            "fast=5:50:5",
            "-r",
            "slow=20:200:10",
            "--preset",
            "standard",
            "--html",
            str(html),
            "--heatmap",
            "fast,slow",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text  # plotly is inlined, not fetched

    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.resolve().as_uri())
        page.wait_for_selector("#ts-landscape .main-svg", timeout=15_000)
        traces = page.evaluate("document.getElementById('ts-landscape').data.map(t => t.type)")
        cells = page.locator("table.results tbody tr").count()
        heading = page.locator("h1").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sweep_report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []
    assert traces == ["heatmap", "scatter"]
    assert cells == 10
    assert heading == "GOOGL · sma_crossover sweep"


def test_indicator_convention_flag_reaches_sweep_and_walkforward(runner: CliRunner) -> None:
    ema = ["sweep", "-d", "GOOGL", "-s", "ema_crossover", "--no-progress", *SMALL, "--json"]
    pandas = run_json(runner, ema)
    talib = run_json(runner, [*ema, "--indicator-convention", "talib"])
    assert talib["spec"]["indicator_convention"] == "talib"
    assert "indicator_convention" not in pandas["spec"]
    assert (pandas["path"], talib["path"]) == ("fused", "fused")
    assert talib["results"][0]["metrics"] != pandas["results"][0]["metrics"]
    assert talib["spec_id"] != pandas["spec_id"]
    wf = [
        *WF,
        "--train-bars",
        "600",
        "--test-bars",
        "400",
        "--json",
        "--indicator-convention",
        "talib",
    ]
    out = run_json(runner, wf)
    assert out["spec"]["indicator_convention"] == "talib"
    one_line_error(runner, [*BASE, *SMALL, "--indicator-convention", "tlib"], "talib")
