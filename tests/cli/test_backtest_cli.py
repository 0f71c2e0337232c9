"""``tradesweep backtest`` through the real app: JSON, files, flags and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.metrics import KEYS, LABELS
from tradesweep.services import run_backtest_spec
from tradesweep.specs import BacktestSpec

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = str(ROOT / "examples" / "strategies" / "golden_cross.yaml")
PLUGINS = str(ROOT / "examples" / "plugins")
BASE = ["backtest", "--data", "GOOGL", "--strategy", "sma_crossover", "-p", "fast=10"]
BASE += ["-p", "slow=30"]
NEVER_TRADES = """\
name: never
description: Enters only above an impossible price.
rules:
  long:
    entry: {">": [close, 1000000000]}
"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def _no_nan(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"JSON carries {constant}")

    return json.loads(text, parse_constant=refuse)


def _json_run(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*BASE, *args, "--json"])
    assert result.exit_code == 0, result.output
    out = _no_nan(result.stdout)  # json.loads refuses anything after the one object
    assert isinstance(out, dict)
    return out


def test_json_is_exactly_one_object_with_metrics_trades_config(runner: CliRunner) -> None:
    result = runner.invoke(app, [*BASE, "--fees", "0.002", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1 and result.stdout.endswith("}\n")
    out = _no_nan(result.stdout)
    assert set(out) == {"metrics", "trades", "config"}
    assert list(out["metrics"]) == list(KEYS)
    assert len(out["trades"]) == out["metrics"]["total_trades"] > 0
    assert out["config"]["params"] == {"fast": 10, "slow": 30}
    assert out["config"]["settings"]["fees"] == 0.002
    assert out["config"]["spec"]["explicit_settings"] == ["fees"]


def test_undefined_metrics_are_null_in_json(runner: CliRunner, tmp_path: Path) -> None:
    strategy = tmp_path / "never.yaml"
    strategy.write_text(NEVER_TRADES)
    result = runner.invoke(app, ["backtest", "-d", "GOOGL", "-s", str(strategy), "--json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    out = _no_nan(result.stdout)
    assert out["trades"] == []
    assert out["metrics"]["total_trades"] == 0
    assert out["metrics"]["win_rate_pct"] is None
    assert out["metrics"]["profit_factor"] is None


def test_json_metrics_equal_the_service(runner: CliRunner) -> None:
    out = _json_run(runner, "--fees", "0.001", "--risk-free", "0.03", "--stop-loss", "0.05")
    spec = BacktestSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "params": {"fast": 10, "slow": 30},
            "settings": {"fees": 0.001, "stop_loss": 0.05},
            "risk_free_rate": 0.03,
        }
    )
    report = run_backtest_spec(spec)
    assert out["metrics"] == json.loads(json.dumps(report.metrics))
    assert out["config"]["spec_id"] == spec.spec_id
    assert out["trades"] == report.trade_records()


def test_json_stays_one_object_when_files_are_written(runner: CliRunner, tmp_path: Path) -> None:
    trades, equity = tmp_path / "t.csv", tmp_path / "sub" / "e.csv"
    result = runner.invoke(
        app, [*BASE, "--json", "--trades-csv", str(trades), "--equity-csv", str(equity)]
    )
    assert result.exit_code == 0, result.output
    out = _no_nan(result.stdout)
    assert set(out) == {"metrics", "trades", "config"}
    assert f"wrote {trades}" in result.stderr and f"wrote {equity}" in result.stderr


def test_csv_files(runner: CliRunner, tmp_path: Path) -> None:
    trades_path, equity_path = tmp_path / "trades.csv", tmp_path / "equity.csv"
    result = runner.invoke(
        app,
        [*BASE, "--trades-csv", str(trades_path), "--equity-csv", str(equity_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    out = _no_nan(result.stdout)
    trades = pd.read_csv(trades_path)
    assert len(trades) == out["metrics"]["total_trades"]
    assert {"entry_time", "exit_time", "side", "pnl", "pnl_pct", "exit_reason"} <= set(trades)
    assert trades["entry_time"][0] == out["trades"][0]["entry_time"]
    assert set(trades["side"]) == {"long"}
    equity = pd.read_csv(equity_path)
    assert list(equity.columns) == ["timestamp", "equity", "position", "drawdown_pct"]
    assert len(equity) == out["metrics"]["bars"] == 2335
    assert equity["equity"].iloc[-1] == pytest.approx(out["metrics"]["final_equity"])
    assert equity["drawdown_pct"].min() == pytest.approx(out["metrics"]["max_drawdown_pct"])
    assert pd.Timestamp(equity["timestamp"][0]) == pd.Timestamp("2009-05-22", tz="UTC")


def test_default_output_is_a_metrics_table_and_a_trades_summary(runner: CliRunner) -> None:
    result = runner.invoke(app, [*BASE, "--fees", "0.001"])
    assert result.exit_code == 0, result.output
    for key in ("total_return_pct", "sharpe_ratio", "max_drawdown_pct", "avg_win", "total_fees"):
        assert LABELS[key] in result.stdout  # units such as [%] and [cash] survive rich markup
    assert "GOOGL · sma_crossover (fast=10, slow=30)" in result.stdout
    assert "trades (" in result.stdout and "exits: signal" in result.stdout
    assert "last 5 trades" in result.stdout


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--cash", "5000"], {"cash": 5000.0}),
        (["--fees", "0.002"], {"fees": 0.002}),
        (["--fixed-fee", "1.5"], {"fixed_fee": 1.5}),
        (["--slippage", "0.001"], {"slippage": 0.001}),
        (["--fill", "close"], {"fill": "close"}),
        (["--direction", "long_short"], {"direction": "long_short"}),
        (["--size", "0.5"], {"size": 0.5}),
        (["--size-type", "units", "--size", "3"], {"size_type": "units", "size": 3.0}),
        (["--whole-units"], {"fractional": False}),
        (["--stop-loss", "0.05"], {"stop_loss": 0.05}),
        (["--stop-loss-atr", "2"], {"stop_loss_atr": 2.0}),
        (["--take-profit", "0.2"], {"take_profit": 0.2}),
        (["--take-profit-atr", "3"], {"take_profit_atr": 3.0}),
        (["--trailing-stop", "0.1"], {"trailing_stop": 0.1}),
        (["--trailing-stop-atr", "2.5"], {"trailing_stop_atr": 2.5}),
        (["--stop-loss-atr", "2", "--atr-period", "20"], {"atr_period": 20}),
        (["--max-drawdown", "0.25"], {"max_drawdown": 0.25}),
        (["--keep-open"], {"close_at_end": False}),
    ],
)
def test_each_engine_flag_maps_to_its_setting(
    runner: CliRunner, flags: list[str], expected: dict[str, Any]
) -> None:
    out = _json_run(runner, *flags)
    settings = out["config"]["settings"]
    for name, value in expected.items():
        assert settings[name] == value
    assert set(expected) <= set(out["config"]["spec"]["explicit_settings"])


def test_metric_flags(runner: CliRunner) -> None:
    out = _json_run(runner, "--periods-per-year", "365", "--risk-free", "0.05")
    assert out["metrics"]["periods_per_year"] == 365.0
    assert out["config"]["risk_free_rate"] == 0.05
    base = _json_run(runner)
    assert out["metrics"]["sharpe_ratio"] != base["metrics"]["sharpe_ratio"]


def test_a_yaml_strategy_keeps_its_settings_unless_a_flag_overrides(runner: CliRunner) -> None:
    args = ["backtest", "--data", "GOOGL", "--strategy", GOLDEN, "-p", "fast=20", "-p", "slow=50"]
    result = runner.invoke(app, [*args, "--stop-loss", "0.03", "--json"])
    assert result.exit_code == 0, result.output
    settings = _no_nan(result.stdout)["config"]["settings"]
    assert settings["stop_loss"] == 0.03
    assert (settings["take_profit"], settings["trailing_stop"]) == (0.5, 0.12)
    assert settings["max_drawdown"] == 0.3


def test_a_plugin_strategy(runner: CliRunner) -> None:
    args = ["backtest", "--data", "GOOGL", "--strategy", "momentum", "--plugins", PLUGINS]
    result = runner.invoke(app, [*args, "-p", "lookback=40", "--json"])
    assert result.exit_code == 0, result.output
    config = _no_nan(result.stdout)["config"]
    assert (config["strategy_name"], config["params"]["lookback"]) == ("momentum", 40)


def test_a_data_file(runner: CliRunner, tmp_path: Path, googl: pd.DataFrame) -> None:
    path = tmp_path / "g.csv"
    googl.tail(500).to_csv(path)
    result = runner.invoke(app, ["backtest", "--data", str(path), "-s", "sma_crossover", "--json"])
    assert result.exit_code == 0, result.output
    assert _no_nan(result.stdout)["metrics"]["bars"] == 500


def test_a_data_file_written_by_pandas_defaults(
    runner: CliRunner, tmp_path: Path, googl: pd.DataFrame
) -> None:
    path = tmp_path / "g.csv"
    googl.tail(300).rename_axis(None).rename(columns=str.title).to_csv(path)
    assert path.read_text().startswith(",Open,High,Low,Close,Volume")
    result = runner.invoke(app, ["backtest", "--data", str(path), "-s", "sma_crossover", "--json"])
    assert result.exit_code == 0, result.output
    assert _no_nan(result.stdout)["metrics"]["bars"] == 300


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--strategy", "sma_crosover"], ["unknown strategy", "did you mean 'sma_crossover'"]),
        (["-p", "fast10"], ["fast10", "expected NAME=VALUE"]),
        (["-p", "=10"], ["expected NAME=VALUE"]),
        (["-p", "fats=10"], ["unknown parameter 'fats'", "did you mean 'fast'"]),
        (["-p", "fast=abc"], ["parameter 'fast'", "must be a number"]),
        (["-p", "fast=2.5"], ["whole number"]),
        (["-p", "fast=50"], ["fast < slow"]),
        (["--fees", "0.5"], ["fees", "allowed range"]),
        (["--stop-loss", "1.5"], ["stop_loss", "allowed range"]),
        (["--fill", "open"], ["fill", "next_open, close"]),
        (["--direction", "both"], ["direction", "long_short"]),
        (["--stop-loss", "0.05", "--stop-loss-atr", "2"], ["both set"]),
        (["--atr-period", "0"], ["atr_period"]),
        (["--size-type", "cash"], ["--size-type cash needs --size"]),
        (["--periods-per-year", "-1"], ["--periods-per-year", "got -1"]),
        (["--data", "GOOGX"], ["unknown ticker 'GOOGX'", "GOOGL"]),
        (["--data", "nope/missing.csv"], ["missing.csv", "no such file"]),
        (["--strategy", "nope/missing.yaml"], ["missing.yaml", "does not exist"]),
    ],
)
def test_bad_input_exits_2_with_one_line(
    runner: CliRunner, args: list[str], words: list[str]
) -> None:
    base = ["backtest", "--data", "GOOGL", "--strategy", "sma_crossover", "-p", "slow=30"]
    # later options win in click, so `args` override the base ones
    result = runner.invoke(app, [*base, *args, "--json"])
    _one_line_error(result, words)


def test_too_few_bars_exits_2_with_the_warmup(
    runner: CliRunner, tmp_path: Path, googl: pd.DataFrame
) -> None:
    path = tmp_path / "short.csv"
    googl.head(40).to_csv(path)
    args = ["backtest", "--data", str(path), "--strategy", "sma_crossover", "-p", "slow=50"]
    result = runner.invoke(app, args)
    _one_line_error(result, ["sma_crossover", "warm-up of 50 bars", "has 40", "shorter warm-up"])


def test_an_unwritable_output_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = runner.invoke(app, [*BASE, "--trades-csv", str(blocker / "t.csv")])
    _one_line_error(result, ["cannot write"])


def _one_line_error(result: Any, words: list[str]) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


def test_the_cli_imports_neither_plotly_without_html_nor_the_oracles() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tradesweep.cli.main import app\n"
        "args = ['backtest', '-d', 'GOOGL', '-s', 'sma_crossover', '--json']\n"
        "r = CliRunner().invoke(app, args)\n"
        "assert r.exit_code == 0, r.output\n"
        "bad = [m for m in ('plotly', 'vectorbt', 'backtesting') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_indicator_convention_flag_reaches_the_spec(runner: CliRunner) -> None:
    macd = ["backtest", "--data", "GOOGL", "--strategy", "macd", "--json"]
    pandas = runner.invoke(app, macd)
    talib = runner.invoke(app, [*macd, "--indicator-convention", "talib"])
    assert pandas.exit_code == 0 and talib.exit_code == 0, talib.output
    p, t = _no_nan(pandas.stdout), _no_nan(talib.stdout)
    assert "indicator_convention" not in p["config"]["spec"]
    assert t["config"]["spec"]["indicator_convention"] == "talib"
    assert t["config"]["spec_id"] != p["config"]["spec_id"]
    spec = BacktestSpec.from_dict(t["config"]["spec"])
    assert t["metrics"]["total_return_pct"] == run_backtest_spec(spec).metrics["total_return_pct"]
    assert t["metrics"]["total_return_pct"] != p["metrics"]["total_return_pct"]


def test_an_unknown_indicator_convention_is_one_line(runner: CliRunner) -> None:
    result = runner.invoke(app, [*BASE, "--indicator-convention", "ta-lib"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "did you mean 'talib'" in result.stderr
