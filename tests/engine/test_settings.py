"""EngineSettings: defaults, validation messages, JSON round trip, replace."""

from __future__ import annotations

import json
import math

import pytest

from tradesweep.engine import EngineSettings
from tradesweep.errors import SettingsError


def test_defaults() -> None:
    s = EngineSettings()
    assert s.cash == 10_000.0
    assert (s.fees, s.fixed_fee, s.slippage) == (0.0, 0.0, 0.0)
    assert (s.fill, s.direction, s.size, s.size_type) == ("next_open", "long_only", 1.0, "percent")
    assert s.fractional and s.close_at_end
    assert s.stop_loss is None and s.max_drawdown is None and s.atr_period == 14
    assert not s.uses_atr


@pytest.mark.parametrize(
    ("changes", "field", "range_text"),
    [
        ({"cash": 0}, "cash", "> 0"),
        ({"cash": -5.0}, "cash", "> 0"),
        ({"cash": math.inf}, "cash", "> 0"),
        ({"fees": 0.2}, "fees", "[0, 0.1]"),
        ({"fees": -0.001}, "fees", "[0, 0.1]"),
        ({"fixed_fee": -1}, "fixed_fee", ">= 0"),
        ({"slippage": 0.5}, "slippage", "[0, 0.1]"),
        ({"size": 1.5}, "size", "(0, 1]"),
        ({"size": 0}, "size", "(0, 1]"),
        ({"size": -10, "size_type": "cash"}, "size", "> 0"),
        ({"size": 0, "size_type": "units"}, "size", "> 0"),
        ({"stop_loss": 1.0}, "stop_loss", "(0, 1)"),
        ({"stop_loss": 0}, "stop_loss", "(0, 1)"),
        ({"stop_loss_atr": 0}, "stop_loss_atr", "(0, 100]"),
        ({"take_profit": -0.1}, "take_profit", "(0, 10]"),
        ({"take_profit_atr": 101}, "take_profit_atr", "(0, 100]"),
        ({"trailing_stop": 1.2}, "trailing_stop", "(0, 1)"),
        ({"trailing_stop_atr": -1}, "trailing_stop_atr", "(0, 100]"),
        ({"max_drawdown": 1.0}, "max_drawdown", "(0, 1)"),
        ({"max_drawdown": math.nan}, "max_drawdown", "(0, 1)"),
    ],
)
def test_numbers_out_of_range_name_field_range_and_fix(changes, field, range_text) -> None:
    with pytest.raises(SettingsError) as info:
        EngineSettings(**changes)
    err = info.value
    assert err.details["setting"] == field
    assert f"'{field}'" in err.message and range_text in err.message
    assert err.fix and range_text in err.fix
    assert err.to_dict()["error"] == "invalid_setting"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fill": "open"}, "fill"),
        ({"direction": "both"}, "direction"),
        ({"size_type": "value"}, "size_type"),
        ({"fractional": 1}, "fractional"),
        ({"close_at_end": "yes"}, "close_at_end"),
        ({"cash": "1000"}, "cash"),
        ({"fees": True}, "fees"),
        ({"atr_period": 0}, "atr_period"),
        ({"atr_period": 2.5}, "atr_period"),
        ({"atr_period": True}, "atr_period"),
    ],
)
def test_wrong_kinds_are_refused(changes, field) -> None:
    with pytest.raises(SettingsError) as info:
        EngineSettings(**changes)
    assert info.value.details["setting"] == field
    assert info.value.fix


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("stop_loss", "stop_loss_atr"),
        ("take_profit", "take_profit_atr"),
        ("trailing_stop", "trailing_stop_atr"),
    ],
)
def test_fraction_and_atr_form_of_one_stop_are_exclusive(first, second) -> None:
    with pytest.raises(SettingsError, match=f"'{first}' and '{second}'"):
        EngineSettings(**{first: 0.05, second: 2.0})


def test_size_range_follows_size_type() -> None:
    assert EngineSettings(size=250.0, size_type="cash").size == 250.0
    assert EngineSettings(size=3, size_type="units").size == 3.0
    assert EngineSettings(size=0.5).size == 0.5


def test_numbers_are_stored_as_floats_and_period_as_int() -> None:
    s = EngineSettings(cash=5000, fees=0, atr_period=20.0, stop_loss_atr=2)
    assert isinstance(s.cash, float) and isinstance(s.fees, float)
    assert isinstance(s.stop_loss_atr, float) and s.uses_atr
    assert s.atr_period == 20 and isinstance(s.atr_period, int)


def test_json_round_trip() -> None:
    s = EngineSettings(
        cash=2500.0,
        fees=0.001,
        fill="close",
        direction="long_short",
        stop_loss=0.05,
        take_profit_atr=3.0,
        max_drawdown=0.25,
        close_at_end=False,
    )
    data = json.loads(json.dumps(s.to_dict()))
    assert EngineSettings.from_dict(data) == s
    assert data["stop_loss_atr"] is None


def test_from_dict_refuses_unknown_names_with_did_you_mean() -> None:
    with pytest.raises(SettingsError) as info:
        EngineSettings.from_dict({"stoploss": 0.05})
    assert info.value.details["setting"] == "stoploss"
    assert "did you mean 'stop_loss'" in info.value.fix


def test_replace_validates_and_keeps_the_rest() -> None:
    s = EngineSettings(fees=0.001)
    t = s.replace(fill="close")
    assert (t.fill, t.fees) == ("close", 0.001) and s.fill == "next_open"
    with pytest.raises(SettingsError):
        s.replace(fees=1.0)
    with pytest.raises(SettingsError):
        s.replace(fess=0.1)


def test_settings_are_frozen_and_hashable() -> None:
    s = EngineSettings()
    with pytest.raises(AttributeError):
        s.cash = 5.0  # type: ignore[misc]
    assert hash(s) == hash(EngineSettings())
