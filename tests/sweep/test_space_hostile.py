"""Whatever numbers a range holds (beyond int64, huge floats, booleans, tiny steps), building
the space gives a space or a ParameterError naming the parameter and which end of the range,
never an OverflowError from numpy."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesweep.errors import ParameterError, TradesweepError
from tradesweep.strategies import strategy_class
from tradesweep.sweep.space import ParameterSpace

numbers = (
    st.integers(min_value=1, max_value=60)
    | st.floats(min_value=0.5, max_value=60.0)
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.sampled_from([2**63 - 1, 2**63, -(2**63), 10**22, 1e300, 1e-300, 5e-324])
)
range_specs = (
    st.fixed_dictionaries({"min": numbers, "max": numbers})
    | st.fixed_dictionaries({"min": numbers, "max": numbers, "step": numbers})
    | st.lists(numbers, min_size=1, max_size=3)
    | numbers
)


@settings(max_examples=300, deadline=None)
@given(spec=range_specs, name=st.sampled_from(["signal", "fast"]))
def test_any_numbers_build_a_space_or_a_parameter_error(spec: Any, name: str) -> None:
    try:
        space = ParameterSpace(strategy_class("macd"), {name: spec}, max_combinations=10)
    except TradesweepError as exc:
        assert exc.details.get("parameter") == name, exc
        return
    assert space.grid_size >= 1


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"min": 5, "max": 10**22}, "max"),
        ({"min": 5, "max": 12, "step": 10**25}, "step"),
        ({"min": -(10**22), "max": 12}, "min"),
        ({"min": 5, "max": 12, "step": 1e300}, "step"),
        ({"min": True, "max": 12}, "min"),
        ("5:100000000000000000000000", "max"),
    ],
)
def test_the_error_names_the_end_of_the_range(spec: Any, key: str) -> None:
    with pytest.raises(ParameterError) as caught:
        ParameterSpace(strategy_class("macd"), {"signal": spec})
    assert caught.value.details["parameter"] == "signal"
    assert caught.value.details["key"] == key


@pytest.mark.parametrize("spec", [[True, 5], {"values": [5, False]}, True])
def test_booleans_are_not_numbers(spec: Any) -> None:
    with pytest.raises(ParameterError, match="number"):
        ParameterSpace(strategy_class("macd"), {"signal": spec})
