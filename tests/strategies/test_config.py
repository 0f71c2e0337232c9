"""Packaged YAML configs and the user's default overrides."""

from __future__ import annotations

import os

import pytest
import yaml

from tradesweep.environment import RuntimeSettings
from tradesweep.errors import StrategyError
from tradesweep.strategies import (
    ConfiguredStrategy,
    DefaultsOverride,
    get_strategy,
    list_strategies,
    load_config,
    load_defaults_override,
    strategy_class,
)
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.config import config_path, parse_config


@pytest.mark.parametrize("name", list(BUILTINS))
def test_each_builtin_reads_its_packaged_config(name):
    config = load_config(name)
    cls = BUILTINS[name]
    assert config_path(name).exists()
    assert (cls.name, cls.description, cls.schema) == (
        config.name,
        config.description,
        config.schema,
    )
    cls.check(cls.defaults())  # the packaged defaults obey the cross-parameter rules


def _config(**parameters):
    return {"name": "x", "description": "d", "parameters": parameters}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_config(fast={"type": "integer", "default": 1, "min": 0, "max": 2}), "did you mean 'int'"),
        (_config(fast={"type": "int", "default": 5, "min": 0, "max": 2}), "outside its bounds"),
        (_config(fast={"type": "int", "default": 1.5, "min": 0, "max": 2}), "not a finite int"),
        (_config(fast={"type": "int", "default": 1, "min": 3, "max": 2}), "min 3 above max 2"),
        (_config(fast={"type": "int", "default": 1, "max": 2}), "missing 'min'"),
        (
            _config(fast={"type": "int", "default": 1, "min": 0, "max": 2, "maximum": 3}),
            "did you mean 'max'",
        ),
        (
            _config(fast={"type": "float", "default": True, "min": 0, "max": 2}),
            "not a finite float",
        ),
        ({"name": "x", "parameter": {}}, "did you mean 'parameters'"),
    ],
)
def test_malformed_configs_name_the_field(data, message):
    with pytest.raises(StrategyError, match=message):
        parse_config(data, source="x.yaml")


def test_a_plugin_can_read_its_own_config(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        yaml.safe_dump(_config(k={"type": "float", "default": 0.5, "min": 0, "max": 1}))
    )

    class Mine(ConfiguredStrategy, config=path):
        def warmup_period(self):
            return 0

        def signals(self, bars):
            raise NotImplementedError

        def on_candle(self, candle):
            return None

        def reset(self):
            pass

    assert Mine.name == "x" and Mine().params == {"k": 0.5}


def test_yaml_syntax_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nparameters:\n  fast: {type: int\n")
    with pytest.raises(StrategyError, match=r"bad.yaml, line \d+: not valid YAML"):
        load_config(path)


# --- user overrides of the defaults ----------------------------------------------------------


def test_override_file_changes_defaults_without_touching_the_builtin(tmp_path):
    path = tmp_path / "defaults.yaml"
    path.write_text("sma_crossover:\n  fast: 20\n  slow: {default: 100, max: 2000}\n")
    override = load_defaults_override(path)
    cls = strategy_class("sma_crossover", defaults=override)
    assert cls.defaults() == {"fast": 20, "slow": 100}
    assert {p.name: p.max for p in cls.schema}["slow"] == 2000
    assert BUILTINS["sma_crossover"].defaults() == {"fast": 10, "slow": 30}
    assert get_strategy("sma_crossover", defaults=path).params == {"fast": 20, "slow": 100}
    assert get_strategy("rsi", defaults=path).params == BUILTINS["rsi"].defaults()


def test_override_directory_and_environment(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("rsi: {period: 21}\n")
    (tmp_path / "b.yml").write_text("macd: {signal: 5}\n")
    assert get_strategy("rsi", defaults=tmp_path).params["period"] == 21
    assert get_strategy("macd", defaults=tmp_path).params["signal"] == 5
    assert get_strategy("rsi", defaults=DefaultsOverride()).params["period"] == 14
    monkeypatch.setenv("TRADESWEEP_STRATEGY_DEFAULTS", str(tmp_path))
    assert get_strategy("rsi").params["period"] == 14  # the core never reads the environment
    edge = RuntimeSettings.from_environ(os.environ)  # the CLI, serve and worker do, once
    assert get_strategy("rsi", defaults=edge.strategy_defaults).params["period"] == 21
    assert list_strategies()[0] == "sma_crossover"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sma_crosover: {fast: 5}\n", "did you mean 'sma_crossover'"),
        ("sma_crossover: {fats: 5}\n", "did you mean 'fast'"),
        ("sma_crossover: {fast: 0}\n", "outside its bounds"),
        ("sma_crossover: {fast: 50}\n", "break its rules.*fast < slow"),
        ("sma_crossover: {fast: {defualt: 5}}\n", "did you mean 'default'"),
        ("sma_crossover: 5\n", "must map parameter names"),
        ("- a\n- b\n", "maps a built-in strategy name"),
    ],
)
def test_bad_overrides_are_refused_when_loaded(tmp_path, text, message):
    path = tmp_path / "defaults.yaml"
    path.write_text(text)
    with pytest.raises(StrategyError, match=message):
        load_defaults_override(path)


def test_a_strategy_overridden_twice_in_a_directory_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("rsi: {period: 21}\n")
    (tmp_path / "b.yaml").write_text("rsi: {period: 10}\n")
    with pytest.raises(StrategyError, match="already overridden"):
        load_defaults_override(tmp_path)


def test_missing_override_path(tmp_path):
    with pytest.raises(StrategyError, match="does not exist"):
        load_defaults_override(tmp_path / "nope.yaml")
