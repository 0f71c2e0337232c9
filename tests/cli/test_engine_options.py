"""The engine-setting options: one per EngineSettings field on ``backtest``, ``sweep`` and
``walkforward``, parsed by the real click commands of the app (nothing is run)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal

import pytest
import typer

from tradesweep.cli.engine_options import ENGINE_OPTIONS, given_settings
from tradesweep.cli.main import app
from tradesweep.engine import EngineSettings

DATA = ["-d", "GOOGL", "-s", "sma_crossover"]
REQUIRED = {
    "backtest": DATA,
    "sweep": [*DATA, "-r", "fast=10"],
    "walkforward": [*DATA, "-r", "fast=10", "--train-bars", "100", "--test-bars", "50"],
}
FIELDS = dataclasses.fields(EngineSettings)
HINTS = typing.get_type_hints(EngineSettings)


def _command(name: str) -> Any:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    return group.commands[name]


def _parse(name: str, args: list[str]) -> dict[str, Any]:
    command = _command(name)
    with command.make_context(name, [*REQUIRED[name], *args]) as ctx:
        return given_settings(ctx.params)


def _sample(field: dataclasses.Field[Any]) -> tuple[list[str], Any]:
    """Arguments that set ``field`` to something other than its default, and that value."""
    hint = HINTS[field.name]
    flag = next(o.flag for o in ENGINE_OPTIONS if o.setting == field.name)
    if hint is bool:
        return [flag], not field.default
    if typing.get_origin(hint) is Literal:
        choice = next(c for c in typing.get_args(hint) if c != field.default)
        return [flag, choice], choice
    if int in typing.get_args(hint) or hint is int:
        return [flag, "7"], 7
    return [flag, "0.25"], 0.25


@pytest.mark.parametrize("command", ["backtest", "sweep", "walkforward"])
@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_engine_setting_is_an_option_of_each_command(
    command: str, field: dataclasses.Field[Any]
) -> None:
    options = {o.setting: o for o in ENGINE_OPTIONS}
    assert field.name in options, f"EngineSettings.{field.name} has no command-line option"
    flags = {opt for p in _command(command).params for opt in p.opts}
    assert options[field.name].flag in flags
    args, value = _sample(field)
    assert _parse(command, args) == {field.name: value}


@pytest.mark.parametrize("command", ["backtest", "sweep", "walkforward"])
def test_only_the_options_given_are_settings(command: str) -> None:
    assert _parse(command, []) == {}
    given = _parse(command, ["--whole-units", "--keep-open", "--fees", "0.1"])
    assert given == {"fractional": False, "close_at_end": False, "fees": 0.1}


def test_the_existing_flag_names_stay() -> None:
    flags = [o.flag for o in ENGINE_OPTIONS]
    assert flags == [
        "--cash",
        "--fees",
        "--fixed-fee",
        "--slippage",
        "--fill",
        "--direction",
        "--size",
        "--size-type",
        "--whole-units",
        "--stop-loss",
        "--stop-loss-atr",
        "--take-profit",
        "--take-profit-atr",
        "--trailing-stop",
        "--trailing-stop-atr",
        "--atr-period",
        "--max-drawdown",
        "--keep-open",
    ]
