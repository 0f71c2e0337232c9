"""A declarative file's execution settings are checked once, when it loads, with the engine's
bounds: ``strategies show`` refuses what ``backtest`` would, naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app

GOLDEN = Path(__file__).resolve().parents[2] / "examples" / "strategies" / "golden_cross.yaml"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    monkeypatch.delenv("TRADESWEEP_STRATEGY_DEFAULTS", raising=False)
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.mark.parametrize(
    ("line", "key", "bounds"),
    [("take_profit: 50", "take_profit", "(0, 10]"), ("stop_loss: 1.0", "stop_loss", "(0, 1)")],
)
def test_show_and_backtest_refuse_alike_naming_file_and_key(
    runner: CliRunner, tmp_path: Path, line: str, key: str, bounds: str
) -> None:
    text = GOLDEN.read_text()
    setting = line.split(":")[0]
    path = tmp_path / "wide.yaml"
    path.write_text(
        "\n".join(line if row.startswith(f"{setting}:") else row for row in text.splitlines())
    )
    show = runner.invoke(app, ["strategies", "show", str(path)])
    backtest = runner.invoke(app, ["backtest", "-d", "GOOGL", "-s", str(path)])
    for result in (show, backtest):
        assert result.exit_code == 2, result.output
        (message,) = [row for row in result.output.splitlines() if row.startswith("error:")]
        assert str(path) in message or path.name in message, message
        assert f"'{key}' is" in message and f"outside {bounds}" in message, message
    assert show.output == backtest.output
