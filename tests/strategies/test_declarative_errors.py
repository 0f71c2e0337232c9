"""A malformed declarative file names the field path, what is allowed, and a did-you-mean."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tradesweep.errors import StrategyError
from tradesweep.strategies import get_strategy
from tradesweep.strategies.declarative import declarative_class

BASE: dict[str, Any] = {
    "name": "base",
    "parameters": {
        "fast": {"type": "int", "default": 10, "min": 2, "max": 100},
        "slow": {"type": "int", "default": 30, "min": 3, "max": 300},
        "level": {"type": "float", "default": 30.0, "min": 0.0, "max": 100.0},
    },
    "constraints": ["fast < slow"],
    "indicators": {
        "f": {"type": "sma", "window": "$fast"},
        "s": {"type": "sma", "window": "$slow"},
        "m": {"type": "macd"},
    },
    "rules": {
        "long": {
            "entry": {"all": [{">": ["close", "s"]}, {"crosses_above": ["f", "s"]}]},
            "exit": {"crosses_below": ["f", "s"]},
        }
    },
}


def with_change(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a dotted path (list items as [i]) replaced or removed (...)."""
    doc = copy.deepcopy(BASE)
    keys = [int(k[1:-1]) if k.startswith("[") else k for k in path.replace("[", ".[").split(".")]
    target = doc
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return doc


def test_base_document_is_valid():
    assert declarative_class(BASE, source="x.yaml")().warmup_period() == 30


CASES = [
    (with_change("nmae", "x"), "'nmae'", "did you mean 'name'"),
    (with_change("name", "has space"), "'name'", "letters, digits"),
    (with_change("rules", ...), "'rules' is missing", "add rules"),
    (with_change("rules", {"longg": {}}), "'rules.longg'", "did you mean 'long'"),
    (
        with_change("rules.long", {"entry": {">": ["close", 1]}, "exits": None}),
        "'rules.long.exits'",
        "did you mean 'exit'",
    ),
    (
        with_change("rules.long.entry.all[1]", {"crosses_abov": ["f", "s"]}),
        "'rules.long.entry.all[1].crosses_abov'",
        "did you mean 'crosses_above'",
    ),
    (
        with_change("rules.long.entry.all[1].crosses_above", ["f"]),
        "'rules.long.entry.all[1].crosses_above'",
        "two operands",
    ),
    (
        with_change("rules.long.entry.all[1].crosses_above", ["f", "slw"]),
        "'rules.long.entry.all[1].crosses_above[1]'",
        "unknown 'slw'",
    ),
    (
        with_change("rules.long.entry.all[0]", {">": ["close", "s"], "<": ["close", "f"]}),
        "'rules.long.entry.all[0]'",
        "exactly one of",
    ),
    (with_change("rules.long.entry.all", []), "'rules.long.entry.all'", "non-empty list"),
    (
        with_change("rules.long.entry.all[0]", {">": ["close", "m"]}),
        "'rules.long.entry.all[0].>[1]'",
        "m.line, m.signal, m.hist",
    ),
    (
        with_change("rules.long.entry.all[0]", {">": ["close", "m.histo"]}),
        "names output 'histo'",
        "m.hist",
    ),
    (
        with_change("rules.long.entry.all[0]", {">": ["close", "$levle"]}),
        "unknown parameter '$levle'",
        "did you mean '$level'",
    ),
    (
        with_change("rules.long.entry.all[0]", {">": [1, "$level"]}),
        "compares two constants",
        "price field",
    ),
    (
        with_change("rules.long.entry.all[0]", {">": ["Close", 1]}),
        "unknown 'Close'",
        "did you mean 'close'",
    ),
    (with_change("rules.long.entry", ...), "'rules.long' is missing 'entry'", "entry condition"),
    (with_change("indicators.f.type", "smaa"), "'indicators.f.type'", "did you mean 'sma'"),
    (with_change("indicators.f.type", ...), "'indicators.f' is missing 'type'", "allowed types"),
    (
        with_change("indicators.f", {"type": "sma", "windwo": 5}),
        "'indicators.f.windwo'",
        "did you mean 'window'",
    ),
    (
        with_change("indicators.f", {"type": "sma"}),
        "'indicators.f' is missing 'window'",
        "needs window",
    ),
    (with_change("indicators.f.window", 0), "'indicators.f.window' is 0", "[1, inf]"),
    (with_change("indicators.f.window", 2.5), "'indicators.f.window' must be an integer", ""),
    (with_change("indicators.f.window", "$level"), "parameter '$level' is a float", "type: int"),
    (
        with_change("parameters.fast.min", 0),
        "'indicators.f.window' must lie in [1, inf]",
        "narrow the min/max",
    ),
    (
        with_change("indicators.f.source", "hl2"),
        "'indicators.f.source'",
        "allowed: open, high, low, close",
    ),
    (
        with_change("indicators.m.output", "histogram"),
        "'indicators.m.output'",
        "outputs of macd: line, signal, hist",
    ),
    (
        with_change("indicators.close", {"type": "sma", "window": 3}),
        "price field 'close'",
        "rename",
    ),
    (
        with_change("parameters.fast.type", "integer"),
        "'parameters.fast.type'",
        "did you mean 'int'",
    ),
    (with_change("constraints", ["fast << slow"]), "'constraints[0]'", "fast < slow"),
    (with_change("constraints", ["fast < slwo"]), "'constraints[0]'", "did you mean '$slow'"),
    (with_change("constraints", ["slow < fast"]), "defaults break 'constraints'", ""),
    (with_change("stop_loss", 1.5), "'stop_loss' is 1.5", "(0, 1)"),
    (with_change("take_profit", 50), "'take_profit' is 50, outside (0, 10]", "(0, 10]"),
    (with_change("position_size", 0), "'position_size' is 0", "(0, 1]"),
    (
        with_change("risk", {"max_drawdwn": 0.2}),
        "'risk.max_drawdwn'",
        "did you mean 'max_drawdown'",
    ),
    (with_change("risk", {"max_drawdown": "lots"}), "'risk.max_drawdown' must be a number", ""),
    (with_change("take_profit", "$level"), "'take_profit' must lie in (0, 10]", "narrow"),
]


@pytest.mark.parametrize(("doc", "where", "fix"), CASES, ids=[c[1][:40] for c in CASES])
def test_malformed_documents(doc, where, fix):
    with pytest.raises(StrategyError) as info:
        declarative_class(doc, source="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: ")
    assert where in message
    assert fix in message


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nrules:\n  long: {entry: [\n")
    with pytest.raises(StrategyError, match=r"broken.yaml, line \d+"):
        get_strategy(path)


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n")
    with pytest.raises(StrategyError, match="must be a mapping"):
        get_strategy(path)


EDGES = (-0.5, 0.0, 1e-9, 0.5, 1.0, 2.0, 10.0, 10.5, 99.0, 100.0)


@pytest.mark.parametrize(
    ("key", "setting"),
    [
        ("stop_loss", "stop_loss"),
        ("take_profit", "take_profit"),
        ("trailing_stop", "trailing_stop"),
        ("position_size", "size"),
        ("risk.max_drawdown", "max_drawdown"),
    ],
)
def test_a_file_loads_exactly_when_the_engine_takes_its_execution_settings(
    key: str, setting: str
) -> None:
    from tradesweep.engine import EngineSettings
    from tradesweep.errors import SettingsError

    for value in EDGES:
        doc = with_change("risk", {"max_drawdown": value}) if key.startswith("risk.") else None
        doc = doc or with_change(key, value)
        try:
            EngineSettings(**{setting: value})
            engine_takes = True
        except SettingsError:
            engine_takes = False
        try:
            declarative_class(doc, source="edge.yaml")
            loads = True
        except StrategyError as error:
            assert str(error).startswith(f"edge.yaml: '{key}' is "), str(error)
            loads = False
        assert loads == engine_takes, f"{key}={value}: loads {loads}, engine {engine_takes}"
