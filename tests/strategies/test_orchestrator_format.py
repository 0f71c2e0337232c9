"""Strategy files in the backtest orchestrator's format load as declarative strategies and
trade exactly like their tradesweep twins; what cannot be honoured is refused, naming the
field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tradesweep.errors import StrategyError
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec
from tradesweep.strategies import get_strategy
from tradesweep.strategies.declarative.orchestrator import translate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
ORCHESTRATOR = EXAMPLES / "ma_crossover_orchestrator.yaml"
TWIN = EXAMPLES / "ma_crossover_twin.yaml"


def trades(strategy: Path | str, data: str, **spec: Any) -> tuple[list[dict[str, Any]], Any]:
    report = run_backtest_spec(
        BacktestSpec.from_dict({"data": data, "strategy": str(strategy), **spec})
    )
    return report.trade_records(), report.settings


@pytest.mark.parametrize(
    ("data", "window"),
    [("GOOGL", {}), ("EURUSD", {"start": "2017-03-01", "end": "2017-06-30T23:00:00Z"})],
)
def test_an_orchestrator_file_trades_like_its_tradesweep_twin(
    data: str, window: dict[str, str]
) -> None:
    got, got_settings = trades(ORCHESTRATOR, data, **window)
    want, want_settings = trades(TWIN, data, **window)
    assert len(got) > 5
    assert got == want
    assert got_settings == want_settings
    assert (got_settings.stop_loss, got_settings.take_profit) == (0.02, 0.04)
    assert (got_settings.size, got_settings.max_drawdown) == (0.5, 0.15)


def test_the_periods_are_parameters_like_the_builtins() -> None:
    strategy = get_strategy(str(ORCHESTRATOR), {"fast": 5, "slow": 20})
    assert strategy.name == "ma_crossover_orchestrator"
    assert dict(strategy.params) == {"fast": 5, "slow": 20}
    got, _ = trades(ORCHESTRATOR, "GOOGL", params={"fast": 5, "slow": 20})
    want, _ = trades(TWIN, "GOOGL", params={"fast": 5, "slow": 20})
    assert got == want


def document(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(ORCHESTRATOR.read_text())
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def test_sell_trades_the_short_side_and_signal_config_sets_the_periods() -> None:
    data = document(
        entry__action="sell",
        signal_config={
            "ma_crossover": {
                "required_indicators": [
                    {"name": "ma_fast", "type": "sma", "params": {"period": 7}},
                    {"name": "ma_slow", "type": "sma", "params": {"period": 21}},
                ],
                "parameters": {"min_separation": 0, "confirmation_bars": 1},
            }
        },
    )
    out = translate(data, source="s.yaml")
    assert set(out["rules"]) == {"short"}
    assert out["rules"]["short"]["entry"] == {
        "crosses_above": ["ma_crossover_fast", "ma_crossover_slow"]
    }
    assert out["parameters"]["fast"]["default"] == 7
    assert out["parameters"]["slow"]["default"] == 21
    assert out["position_size"] == 0.5  # entry.size under risk.max_position_size


def test_the_size_is_capped_by_max_position_size() -> None:
    assert translate(document(risk__max_position_size=0.1), source="s")["position_size"] == 0.1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filters": {"min_volume_usd": 1}}, "filters"),
        ({"entry__when__0__outputs__signal_strength": "> 0.1"}, "entry.when[0].outputs"),
        ({"entry__when__0__signal": "rsi_oversold"}, "entry.when[0].signal"),
        ({"entry__when__0__outputs__crossover_type": "cross"}, "crossover_type"),
        ({"entry__action": "hold"}, "entry.action"),
        ({"exit__stop_loss__type": "atr"}, "exit.stop_loss.type"),
        ({"exit__max_holding_period": 20}, "exit.max_holding_period"),
        ({"exit__signal_exit__action": "close_half"}, "exit.signal_exit.action"),
        ({"risk__daily_loss_limit": 0.03}, "risk.daily_loss_limit"),
        ({"risk__max_positions": 3}, "risk.max_positions"),
        ({"entry__size": "parameters.size"}, "entry.size"),
        ({"dependencies__signals": ["core.signals.turtle"]}, "dependencies.signals"),
        (
            {"signal_config": {"ma_crossover": {"parameters": {"confirmation_bars": 3}}}},
            "confirmation_bars",
        ),
    ],
)
def test_what_cannot_be_honoured_is_refused_naming_the_field(
    changes: dict[str, Any], field: str, tmp_path: Path
) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(document(**changes)))
    with pytest.raises(StrategyError) as raised:
        get_strategy(str(path))
    assert field in raised.value.details["field"], raised.value
    assert raised.value.fix


def test_a_tradesweep_file_is_not_translated() -> None:
    strategy = get_strategy(str(TWIN))
    assert strategy.name == "ma_crossover_twin"


SIGNAL_CONFIG = {"required_indicators": [{"name": "ma_fast", "params": {"period": 7}}]}
BAD_PERIOD = {"name": "ma_fast", "params": {"period": [7]}}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"entry__action": ["buy"]}, "entry.action"),
        ({"entry__action": {"side": "buy"}}, "entry.action"),
        ({"entry__when__0__signal": {"name": "ma_crossover"}}, "entry.when[0].signal"),
        ({"entry__when__0__signal": ["ma_crossover"]}, "entry.when[0].signal"),
        (
            {"entry__when__0__outputs__crossover_type": ["golden_cross"]},
            "entry.when[0].outputs.crossover_type",
        ),
        (
            {"exit__signal_exit__when__0__outputs__crossover_type": {"a": 1}},
            "exit.signal_exit.when[0].outputs.crossover_type",
        ),
        ({"exit__signal_exit__action": ["close_all"]}, "exit.signal_exit.action"),
        ({"signal_config": [1]}, "signal_config"),
        ({"signal_config": {"ma_crossover": [1]}}, "signal_config.ma_crossover"),
        (
            {"signal_config": {"ma_crossover": {"required_indicators": 5}}},
            "signal_config.ma_crossover.required_indicators",
        ),
        (
            {"signal_config": {"ma_crossover": {"required_indicators": [{"params": [5]}]}}},
            "signal_config.ma_crossover.required_indicators[0].params",
        ),
        (
            {"signal_config": {"ma_crossover": {**SIGNAL_CONFIG, "parameters": [1]}}},
            "signal_config.ma_crossover.parameters",
        ),
        ({"dependencies__signals": "core.signals.ma_crossover"}, "dependencies.signals"),
        ({"dependencies__signals": [["ma_crossover"]]}, "dependencies.signals[0]"),
        ({"entry__size": [0.5]}, "entry.size"),
        ({"parameters__position_size": [0.5]}, "entry.size"),
        ({"risk__max_position_size": {"a": 1}}, "risk.max_position_size"),
        ({"exit__stop_loss__value": [0.02]}, "exit.stop_loss.value"),
        ({"exit__take_profit": [0.04]}, "exit.take_profit"),
        ({"risk__max_drawdown": "a lot"}, "risk.max_drawdown"),
        ({"risk__max_positions": [1]}, "risk.max_positions"),
        ({"entry__when__0__outputs": [1]}, "entry.when[0].outputs"),
        ({"parameters__ma_fast_period": "ten"}, "parameters.ma_fast_period"),
        (
            {"signal_config": {"ma_crossover": {"required_indicators": [BAD_PERIOD]}}},
            "signal_config.ma_crossover.required_indicators[0].params.period",
        ),
        ({"name": ["x"]}, "name"),
        ({"description": {"a": 1}}, "description"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_key(
    changes: dict[str, Any], field: str, tmp_path: Path
) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(yaml.safe_dump(document(**changes)))
    with pytest.raises(StrategyError) as raised:
        get_strategy(str(path))
    assert raised.value.details["field"] == field, raised.value
    assert str(path) in str(raised.value)
    assert "must be" in str(raised.value), raised.value  # says what is expected
    assert raised.value.fix
