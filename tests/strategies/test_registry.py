"""Finding strategies by name or path, and the public API."""

from __future__ import annotations

import os

import pytest

import tradesweep.strategies as strategies
from tradesweep.environment import RuntimeSettings
from tradesweep.errors import StrategyError
from tradesweep.strategies import (
    DeclarativeStrategy,
    Strategy,
    get_strategy,
    list_strategies,
    strategy_class,
    strategy_classes,
)

BUILTIN_NAMES = [
    "sma_crossover",
    "ema_crossover",
    "macd",
    "rsi",
    "bollinger",
    "vwap",
    "volume_profile",
    "grid",
]


def test_list_strategies_names_the_builtins_in_library_order(monkeypatch):
    monkeypatch.delenv("TRADESWEEP_STRATEGY_PLUGINS", raising=False)
    assert list_strategies() == BUILTIN_NAMES


def test_get_strategy_binds_validated_parameters():
    strategy = get_strategy("sma_crossover", {"fast": "5"})
    assert strategy.params == {"fast": 5, "slow": 30}
    assert isinstance(strategy, strategy_class("sma_crossover"))


def test_unknown_name_suggests_and_lists_builtins():
    with pytest.raises(StrategyError) as info:
        get_strategy("bolinger")
    message = str(info.value)
    assert "unknown strategy 'bolinger'" in message
    assert "did you mean 'bollinger'?" in message
    assert all(name in message for name in BUILTIN_NAMES)
    assert info.value.to_dict()["error"] == "invalid_strategy"


def test_unknown_name_without_a_close_match_still_lists_builtins():
    with pytest.raises(StrategyError, match="built-in strategies: sma_crossover") as info:
        get_strategy("zzzzzz")
    assert "did you mean" not in str(info.value)


def test_paths_resolve_to_declarative_and_plugin_classes(examples_dir, plugin_example):
    golden = strategy_class(examples_dir / "strategies" / "golden_cross.yaml")
    assert issubclass(golden, DeclarativeStrategy) and golden.name == "golden_cross"
    momentum = strategy_class(str(plugin_example))
    assert momentum.name == "momentum"
    assert strategy_class(f"{plugin_example}:Momentum") is momentum
    assert strategy_class(plugin_example.parent).name == "momentum"


def test_missing_paths_say_so(tmp_path):
    with pytest.raises(StrategyError, match="does not exist"):
        strategy_class(tmp_path / "nope.yaml")
    with pytest.raises(StrategyError, match="does not exist"):
        strategy_class(tmp_path / "nope.py")
    with pytest.raises(StrategyError, match="neither"):
        strategy_class(f"{tmp_path}/nope.txt")


def test_plugin_names_resolve_when_plugins_are_given(plugin_example, monkeypatch):
    assert get_strategy("momentum", plugins=[plugin_example]).name == "momentum"
    assert list_strategies(plugins=[plugin_example.parent]) == [*BUILTIN_NAMES, "momentum"]
    monkeypatch.setenv("TRADESWEEP_STRATEGY_PLUGINS", str(plugin_example.parent))
    assert "momentum" not in list_strategies()  # the core never reads the environment
    plugins = RuntimeSettings.from_environ(os.environ).strategy_plugins  # the edge does
    assert "momentum" in list_strategies(plugins=plugins)
    with pytest.raises(StrategyError, match="did you mean 'momentum'"):
        get_strategy("momentun", plugins=plugins)


def test_a_plugin_cannot_take_a_builtin_name(tmp_path):
    (tmp_path / "clash.py").write_text(
        "from tradesweep.strategies.builtins import Rsi\nclass Clash(Rsi):\n    pass\n"
    )
    with pytest.raises(StrategyError, match="'rsi' is already taken by a built-in"):
        strategy_classes(plugins=[tmp_path / "clash.py"])


def test_a_directory_with_several_strategies_needs_a_choice(tmp_path, plugin_example):
    source = plugin_example.read_text()
    (tmp_path / "a.py").write_text(source)
    (tmp_path / "b.py").write_text(source.replace('name = "momentum"', 'name = "momentum2"'))
    with pytest.raises(StrategyError, match="holds 2 strategies"):
        strategy_class(tmp_path)


def test_builtins_are_strategies_with_a_described_schema():
    for name, cls in strategy_classes(plugins=[]).items():
        assert issubclass(cls, Strategy) and cls.name == name
        info = cls.describe()
        assert info["description"] and info["warmup_period"] >= 0
        assert all(p["description"] for p in info["parameters"])


def test_public_api_is_curated():
    for name in (
        "Strategy",
        "Signals",
        "SignalFlag",
        "Candle",
        "Param",
        "get_strategy",
        "list_strategies",
        "strategy_class",
        "assert_no_lookahead",
        "Execution",
    ):
        assert name in strategies.__all__
    assert all(hasattr(strategies, name) for name in strategies.__all__)
