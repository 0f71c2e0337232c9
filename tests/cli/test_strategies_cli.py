"""``tradesweep strategies list|show`` through the real app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "examples" / "strategies" / "golden_cross.yaml"
MOMENTUM = ROOT / "examples" / "plugins" / "momentum.py"
BUILTINS = [
    "sma_crossover",
    "ema_crossover",
    "macd",
    "rsi",
    "bollinger",
    "vwap",
    "volume_profile",
    "grid",
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_list_shows_every_builtin_with_defaults(runner: CliRunner) -> None:
    result = runner.invoke(app, ["strategies", "list"])
    assert result.exit_code == 0, result.output
    for name in BUILTINS:
        assert name in result.output
    assert "fast=10, slow=30" in result.output
    assert "Trend following on two simple moving averages of the close." in result.output


def test_list_json_is_machine_readable(runner: CliRunner) -> None:
    result = runner.invoke(app, ["strategies", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["name"] for s in data] == BUILTINS
    sma = data[0]
    assert sma["parameters"][0] == {
        "name": "fast",
        "type": "int",
        "default": 10,
        "min": 2,
        "max": 500,
        "description": "Bars in the fast simple moving average.",
    }
    assert sma["warmup_period"] == 30


def test_list_with_plugins_and_defaults(runner: CliRunner, tmp_path: Path) -> None:
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("sma_crossover: {fast: 20}\n")
    result = runner.invoke(
        app,
        ["strategies", "list", "--json", "--plugins", str(MOMENTUM), "--defaults", str(defaults)],
    )
    assert result.exit_code == 0, result.output
    data = {s["name"]: s for s in json.loads(result.output)}
    assert "momentum" in data
    assert data["sma_crossover"]["parameters"][0]["default"] == 20


def test_show_a_builtin(runner: CliRunner) -> None:
    result = runner.invoke(app, ["strategies", "show", "bollinger"])
    assert result.exit_code == 0, result.output
    for text in ("bollinger", "num_std", "[0.1, 10.0]", "warm-up: 19 bars", "middle band"):
        assert text in result.output


def test_show_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["strategies", "show", "rsi", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name"] == "rsi" and data["warmup_period"] == 15
    assert [p["name"] for p in data["parameters"]] == ["period", "oversold", "overbought"]


def test_show_a_declarative_file_and_a_plugin(runner: CliRunner) -> None:
    golden = runner.invoke(app, ["strategies", "show", str(GOLDEN)])
    assert golden.exit_code == 0, golden.output
    assert "golden_cross" in golden.output and "stop_loss=0.08" in golden.output
    data = json.loads(runner.invoke(app, ["strategies", "show", str(GOLDEN), "--json"]).output)
    assert data["execution"]["max_drawdown"] == 0.3
    plugin = runner.invoke(app, ["strategies", "show", f"{MOMENTUM}:Momentum", "--json"])
    assert plugin.exit_code == 0, plugin.output
    assert json.loads(plugin.output)["name"] == "momentum"


def test_unknown_name_is_one_line_and_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["strategies", "show", "sma_crosover"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: unknown strategy 'sma_crosover'")
    assert "did you mean 'sma_crossover'?" in lines[0]


def test_broken_files_are_one_line_errors(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\nraise ValueError('nope')\n")
    result = runner.invoke(app, ["strategies", "show", str(bad)])
    assert result.exit_code == 2
    assert "bad.py, line 2" in result.output and "Traceback" not in result.output
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text("name: x\nrules: {long: {entry: {crosses_abov: [close, 1]}}}\n")
    result = runner.invoke(app, ["strategies", "show", str(yaml_file)])
    assert result.exit_code == 2
    assert "rules.long.entry.crosses_abov" in result.output
