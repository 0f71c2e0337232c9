"""``tradesweep paper run`` through the real app: the replayed session equals the backtest of
the same arguments (trades and equity), its JSON shape, the table at 80 columns, and one-line
errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app

ARGS = ["--data", "GOOGL", "--strategy", "sma_crossover", "-p", "fast=10", "-p", "slow=30"]
ARGS += ["--fees", "0.001", "--fixed-fee", "0.5", "--slippage", "0.0005"]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)
    monkeypatch.delenv("TRADESWEEP_REDIS_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def _json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"JSON carries {constant}")

    out = json.loads(result.stdout, parse_constant=refuse)
    assert isinstance(out, dict)
    return out


@pytest.mark.parametrize(
    "flags",
    [
        ["--fill", "next_open"],
        ["--fill", "close"],
        ["--fill", "next_open", "--stop-loss", "0.03", "--take-profit", "0.08"],
        ["--fill", "close", "--direction", "long_short", "--trailing-stop", "0.05"],
    ],
    ids=" ".join,
)
def test_the_session_equals_the_backtest_of_the_same_arguments(
    runner: CliRunner, flags: list[str]
) -> None:
    paper = _json(runner, "paper", "run", *ARGS, *flags)
    backtest = _json(runner, "backtest", *ARGS, *flags)
    assert set(paper) == {
        "session_id",
        "status",
        "metrics",
        "trades",
        "orders",
        "rejections",
        "comparison",
    }
    assert paper["status"] == "completed"
    assert paper["session_id"].startswith("paper-")
    assert len(backtest["trades"]) >= 2, "the case should trade"
    assert paper["trades"] == backtest["trades"]
    comparison = paper["comparison"]
    assert comparison["max_equity_difference"] is not None
    assert comparison["max_equity_difference"] <= 1e-9
    assert comparison["trades_equal"] is True
    assert comparison["backtest_metrics"] == backtest["metrics"]
    for key, value in backtest["metrics"].items():
        if key == "stop_and_target_same_bar":
            continue  # the paper executor does not count them
        if isinstance(value, float):
            assert paper["metrics"][key] == pytest.approx(value, rel=1e-9, abs=1e-9), key
        else:
            assert paper["metrics"][key] == value, key
    assert paper["rejections"] == []
    # every trade closes with an order (a reversal closes one and opens the next)
    assert len(paper["orders"]) >= len(paper["trades"])
    assert {"order_id", "leg", "time", "action"} <= set(paper["orders"][0])


def test_the_table_fits_80_columns(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["paper", "run", *ARGS])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "paper session paper-" in out
    assert "candles" in out and "orders" in out and "trades" in out
    assert "Sharpe ratio" in out
    assert "paper vs backtest" in out and "max |equity difference|" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--strategy", "nope"], ["unknown strategy 'nope'", "sma_crossover"]),
        (["--data", "GOOGX"], ["unknown ticker 'GOOGX'", "GOOGL"]),
        (["-p", "fast"], ["bad -p value 'fast'", "NAME=VALUE"]),
        (["-p", "fast=-3"], ["fast"]),
        (["--speed", "-1"], ["speed", "0"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("-") else "",
)
def test_bad_input_exits_2_with_one_line(
    runner: CliRunner, args: list[str], words: list[str]
) -> None:
    result = runner.invoke(app, ["paper", "run", *ARGS, *args, "--json"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0], lines[0]
