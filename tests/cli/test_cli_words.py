"""The CLI's words (``docs/glossary.md``): one flag per concept, the old flags as hidden
aliases, errors that name flags where the API names fields (``tests/api/test_api_words.py``),
and CSVs that share one timestamp format and write whole numbers as whole numbers."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app

DATA = ["-d", "GOOGL", "-s", "sma_crossover"]
WF = ["walkforward", *DATA, "-r", "fast=10", "-r", "slow=30", "--no-progress"]
SWEEP = ["sweep", *DATA, "-r", "fast=10:20:5", "-r", "slow=20:30:5", "--no-progress"]
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    return CliRunner()


def _error(runner: CliRunner, args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def _spec(runner: CliRunner, args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--print-spec"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


# ---- one flag per concept, the old ones hidden ---------------------------------------------


def test_walkforward_windows_are_train_test_step_bars_and_the_old_flags_still_work(
    runner: CliRunner,
) -> None:
    new = _spec(runner, [*WF, "--train-bars", "500", "--test-bars", "100", "--step-bars", "200"])
    old = _spec(runner, [*WF, "--train", "500", "--test", "100", "--step", "200"])
    assert new == old
    assert (new["train_bars"], new["test_bars"], new["step_bars"]) == (500, 100, 200)
    both = _error(runner, [*WF, "--train-bars", "500", "--train", "400", "--test-bars", "100"])
    assert "--train is the old name of --train-bars" in both
    assert "--train-bars" in _error(runner, [*WF, "--test-bars", "100"])
    shown = runner.invoke(app, ["walkforward", "--help"], env={"COLUMNS": "200"}).output
    assert "--train-bars" in shown and not re.search(r"--train\b(?!-)", shown)


@pytest.mark.parametrize("command", [SWEEP, [*WF, "--train-bars", "500", "--test-bars", "100"]])
def test_compute_workers_and_its_old_name(runner: CliRunner, command: list[str]) -> None:
    assert _spec(runner, [*command, "--compute-workers", "2"]) == _spec(
        runner, [*command, "--workers", "2"]
    )
    error = _error(runner, [*command, "--compute-workers", "2", "--workers", "3", "--print-spec"])
    assert "--workers is the old name of --compute-workers" in error
    shown = runner.invoke(app, [command[0], "--help"], env={"COLUMNS": "200"}).output
    assert "--compute-workers" in shown and not re.search(r"--workers\b", shown)


def test_serve_takes_concurrency_and_its_old_name_workers(runner: CliRunner) -> None:
    error = _error(runner, ["serve", "--concurrency", "2", "--workers", "3"])
    assert "--workers is the old name of --concurrency" in error
    shown = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert "--concurrency" in shown and not re.search(r"--workers\b", shown)
    worker = runner.invoke(app, ["worker", "--help"], env={"COLUMNS": "200"}).output
    assert "--concurrency" in worker and "--compute-workers" in worker


# ---- errors name flags -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words", "not_words"),
    [
        (
            [*WF, "--train-bars", "500", "--test-bars", "100", "--step-bars", "50", "--print-spec"],
            ["--step-bars 50 is smaller than --test-bars 100", "give --step-bars >= --test-bars"],
            ["step_bars", "test_bars"],
        ),
        (
            [*WF, "--train-bars", "5000", "--test-bars", "1000", "--json"],
            ["keep --train-bars + --test-bars <="],
            ["train_bars"],
        ),
        (
            [*SWEEP, "--trials", "5", "--print-spec"],
            ["--trials 5 only applies", "--search random"],
            ["trials="],
        ),
        ([*SWEEP, "--search", "random", "--trials", "0", "--json"], ["--trials 200"], ["trials="]),
    ],
)
def test_shared_errors_name_the_cli_flags(
    runner: CliRunner, args: list[str], words: list[str], not_words: list[str]
) -> None:
    line = _error(runner, args)
    for word in words:
        assert word in line, line
    for word in not_words:
        assert word not in line, line


def test_an_existing_ticker_says_overwrite_as_a_flag(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "abc.csv"
    path.write_text("date,open,high,low,close,volume\n2020-01-01,1,2,0.5,1.5,10\n")
    assert runner.invoke(app, ["data", "import", str(path), "--ticker", "ABC"]).exit_code == 0
    line = _error(runner, ["data", "import", str(path), "--ticker", "ABC"])
    assert "--overwrite" in line and "overwrite=" not in line, line


# ---- CSVs ----------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_backtest_csvs_share_one_timestamp_format(runner: CliRunner, tmp_path: Path) -> None:
    trades, equity = tmp_path / "trades.csv", tmp_path / "equity.csv"
    args = ["backtest", *DATA, "-p", "fast=10", "-p", "slow=30", "--json"]
    result = runner.invoke(app, [*args, "--trades-csv", str(trades), "--equity-csv", str(equity)])
    assert result.exit_code == 0, result.output
    trade_rows, equity_rows = _rows(trades), _rows(equity)
    assert trade_rows and equity_rows
    stamps = [r["timestamp"] for r in equity_rows]
    stamps += [r[k] for r in trade_rows for k in ("entry_time", "exit_time")]
    assert all(ISO.fullmatch(s) for s in stamps), [s for s in stamps if not ISO.fullmatch(s)][:3]
    assert set(stamps[len(equity_rows) :]) <= set(stamps[: len(equity_rows)])
    for row in trade_rows:
        assert re.fullmatch(r"\d+", row["bars_held"]) and row["side"] in ("long", "short")


def test_sweep_and_walkforward_csvs_write_whole_numbers(runner: CliRunner, tmp_path: Path) -> None:
    table, equity = tmp_path / "sweep.csv", tmp_path / "wf.csv"
    result = runner.invoke(app, [*SWEEP, "-r", "stop_loss=0.05", "--csv", str(table), "--json"])
    assert result.exit_code == 0, result.output
    rows = _rows(table)
    assert len(rows) == 8
    for row in rows:
        for name in ("grid_index", "fast", "slow", "bars", "total_trades"):
            assert re.fullmatch(r"\d+", row[name]), (name, row[name])
        assert re.fullmatch(r"\d+|", row["rank"]) and row["stop_loss"] == "0.05"
        assert ISO.fullmatch(row["start"]) and ISO.fullmatch(row["end"])

    args = [*WF, "--train-bars", "600", "--test-bars", "400", "--equity-csv", str(equity)]
    assert runner.invoke(app, [*args, "--json"]).exit_code == 0
    assert all(ISO.fullmatch(r["timestamp"]) for r in _rows(equity))
