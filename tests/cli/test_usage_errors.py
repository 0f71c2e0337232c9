"""Usage errors (an unknown or missing option, a bad value, an unknown command) are one line
``error: ... (see `tradesweep CMD --help`)`` and exit 2, like every other error of the CLI;
``--help`` keeps typer's layout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("args", "words", "where"),
    [
        (["backtest", "--nope"], ["No such option: --nope"], "backtest"),
        (["sweep", "--compute-workrs", "2"], ["--compute-workrs", "--compute-workers"], "sweep"),
        (["db", "prune"], ["Missing option '--older-than'"], "db prune"),
        (["data", "list", "extra"], ["unexpected extra argument"], "data list"),
        (
            [
                "sweep",
                "-d",
                "GOOGL",
                "-s",
                "sma_crossover",
                "-r",
                "fast=5",
                "--compute-workers",
                "x",
            ],
            ["Invalid value for '--compute-workers'"],
            "sweep",
        ),
        (["strategies", "shw"], ["No such command 'shw'", "show"], "strategies"),
        (["nosuch"], ["No such command 'nosuch'"], ""),
        (["--nope"], ["No such option: --nope"], ""),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], words: list[str], where: str
) -> None:
    result = CliRunner().invoke(app, args, prog_name="tradesweep")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert lines[0].endswith(f"(see `{' '.join(['tradesweep', where]).strip()} --help`)")
    assert not result.stdout.strip()


def test_the_installed_command_prints_the_same_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tradesweep", "backtest", "--nope"],
        env={**os.environ, "PYTHONPATH": str(SRC), "TRADESWEEP_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: No such option: --nope (see `python -m tradesweep backtest --help`)"
    ]
    assert not done.stdout


def test_help_keeps_its_layout() -> None:
    result = CliRunner().invoke(app, ["db", "prune", "--help"], prog_name="tradesweep")
    assert result.exit_code == 0
    assert "Usage: tradesweep db prune [OPTIONS]" in result.stdout
    assert "--older-than" in result.stdout and "Options" in result.stdout
    bare = CliRunner().invoke(app, ["db"], prog_name="tradesweep")
    assert "Usage: tradesweep db [OPTIONS] COMMAND" in bare.output and "error:" not in bare.output
