"""Parameter spaces: range syntax, validation, constraints, counting, sampling, neighbours."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesweep.errors import ParameterError, SettingsError
from tradesweep.strategies.base import Param, Strategy
from tradesweep.sweep.space import (
    ParameterSpace,
    Range,
    Values,
    as_range_spec,
    parse_range,
    parse_ranges,
)


class _Stub(Strategy):
    """Trivial implementations of the abstract methods; tests only use schema and check()."""

    name: ClassVar[str] = "stub"
    description: ClassVar[str] = "test strategy"
    schema: ClassVar[tuple[Param, ...]] = ()

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Any:
        raise NotImplementedError

    def on_candle(self, candle: Any) -> None:
        return None

    def reset(self) -> None:
        pass


class Cross(_Stub):
    name = "cross"
    schema = (
        Param("fast", int, 10, 2, 500, "fast period"),
        Param("slow", int, 30, 3, 1000, "slow period"),
        Param("k", float, 1.0, 0.0, 5.0, "a multiplier"),
    )

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if params["fast"] >= params["slow"]:
            raise ParameterError("fast must be below slow", fix="make fast smaller")


class Free(_Stub):
    name = "free"
    schema = (Param("a", int, 1, 0, 100, ""), Param("b", int, 1, 0, 100, ""))


class ReadsAll(_Stub):
    """A rule that looks at every value through items(): must not be short-cut."""

    name = "reads_all"
    schema = (
        Param("a", int, 1, 0, 20, ""),
        Param("b", int, 1, 0, 20, ""),
        Param("c", int, 1, 0, 20, ""),
    )

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if sum(v for _, v in params.items()) > 25:
            raise ParameterError("too big")


class Branching(_Stub):
    """Reads ``x`` only when ``mode == 1``: the read set must widen as it is discovered."""

    name = "branching"
    schema = (
        Param("mode", int, 0, 0, 2, ""),
        Param("x", int, 0, 0, 9, ""),
        Param("y", int, 0, 0, 9, ""),
    )

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if params["mode"] == 1 and params["x"] > 4:
            raise ParameterError("x too big in mode 1")


def brute_force_valid(space: ParameterSpace, constraint: str | None) -> list[int]:
    """Oracle: every combination in grid order, checked one by one with validate_params and
    Python's own eval of the constraint."""
    axes = [a.values().tolist() for a in space.axes]
    out = []
    for index, values in enumerate(itertools.product(*axes)):
        params = dict(zip(space.names, values, strict=True))
        try:
            space.strategy_cls.validate_params(params)
        except ParameterError:
            continue
        if constraint is not None:
            try:
                ok = eval(constraint, {"abs": abs, "min": min, "max": max}, dict(params))
            except ZeroDivisionError:
                ok = False
            if not ok:
                continue
        out.append(index)
    return out


# ---- syntax ------------------------------------------------------------------------------------


def test_cli_text_forms() -> None:
    assert parse_range("fast=5:50:5") == ("fast", Range(5, 50, 5))
    assert parse_range("fast=5:50") == ("fast", Range(5, 50, None))
    assert parse_range("fast=10,20,30") == ("fast", Values((10, 20, 30)))
    assert parse_range("fast=10") == ("fast", Values((10,)))
    assert parse_range(" k = 0.1:0.5:0.1 ") == ("k", Range(0.1, 0.5, 0.1))
    assert parse_ranges(["fast=5", "slow=1:3"]) == {"fast": Values((5,)), "slow": Range(1, 3)}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("fast", "NAME=MIN:MAX:STEP"),
        ("=5", "NAME=MIN:MAX:STEP"),
        ("fast=", "no value"),
        ("fast=a:b", "'a' is not a number"),
        ("fast=1:2:3:4", "MIN:MAX or MIN:MAX:STEP"),
        ("fast=1,,2", "'' is not a number"),
        ("fast=inf", "not a finite number"),
    ],
)
def test_cli_text_errors(text: str, needle: str) -> None:
    with pytest.raises(ParameterError, match=needle):
        parse_range(text)


def test_parameter_given_twice() -> None:
    with pytest.raises(ParameterError, match="given twice"):
        parse_ranges(["fast=5", "fast=6"])


def test_api_specs() -> None:
    assert as_range_spec({"min": 1, "max": 5, "step": 2}, "a") == Range(1, 5, 2)
    assert as_range_spec({"min": 1, "max": 5}, "a") == Range(1, 5, None)
    assert as_range_spec({"values": [3, 1]}, "a") == Values((3, 1))
    assert as_range_spec([1, 2], "a") == Values((1, 2))
    assert as_range_spec(7, "a") == Values((7,))
    with pytest.raises(ParameterError, match="keys"):
        as_range_spec({"min": 1, "max": 5, "stp": 1}, "a")
    with pytest.raises(ParameterError, match="must be a number"):
        as_range_spec(True, "a")


# ---- expansion ---------------------------------------------------------------------------------


def axis_values(ranges: dict[str, Any], name: str, strategy: type[Strategy] = Cross) -> list:
    space = ParameterSpace(strategy, ranges)
    return space.axes[space.names.index(name)].values().tolist()


def test_range_is_inclusive_at_both_ends() -> None:
    assert axis_values({"fast": "10:20:5"}, "fast") == [10, 15, 20]
    assert axis_values({"fast": {"min": 10, "max": 20, "step": 5}}, "fast") == [10, 15, 20]
    assert axis_values({"fast": "10:10:5"}, "fast") == [10]
    assert axis_values({"fast": "5:52:5"}, "fast") == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert axis_values({"fast": "2:5"}, "fast") == [2, 3, 4, 5]  # integer step defaults to 1


def test_float_range_is_round_safe() -> None:
    assert axis_values({"k": "0.1:0.5:0.1"}, "k") == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert axis_values({"k": "0:1:0.05"}, "k")[-1] == 1.0
    assert len(axis_values({"k": "0:1:0.05"}, "k")) == 21
    assert axis_values({"k": "0.3:0.9:0.3"}, "k") == [0.3, 0.6, 0.9]


@given(
    start=st.integers(2, 200),
    length=st.integers(0, 300),
    step=st.integers(1, 50),
)
def test_int_range_matches_python_range(start: int, length: int, step: int) -> None:
    stop = start + length
    assert axis_values({"fast": f"{start}:{stop}:{step}"}, "fast") == list(
        range(start, stop + 1, step)
    )


@given(a=st.integers(0, 40), n=st.integers(0, 60), step=st.integers(1, 9))
def test_decimal_float_range_has_exact_count(a: int, n: int, step: int) -> None:
    # start a/100, step step/100, stop exactly n steps on: n + 1 values, the last one == stop
    start, stop = a / 100, (a + n * step) / 100
    if stop > 5.0:
        return
    values = axis_values({"k": f"{start}:{stop}:{step / 100}"}, "k")
    assert len(values) == n + 1
    assert values[-1] == stop
    assert values == [round((a + i * step) / 100, 2) for i in range(n + 1)]


def test_lists_are_sorted_and_deduplicated() -> None:
    assert axis_values({"fast": [30, 10, 20, 10]}, "fast") == [10, 20, 30]
    assert axis_values({"fast": "30,10,20"}, "fast") == [10, 20, 30]


def test_unswept_parameters_take_the_default() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5"})
    combos = space.valid_combinations()
    assert (combos.columns["slow"] == 30).all()
    assert (combos.columns["k"] == 1.0).all()
    assert combos.columns["fast"].dtype == np.int64
    assert combos.columns["k"].dtype == np.float64
    assert space.swept == ("fast",)


@pytest.mark.parametrize(
    ("ranges", "needles"),
    [
        ({"fsat": "1:5"}, ["unknown parameter 'fsat'", "did you mean 'fast'"]),
        ({"fast": "1:20:5"}, ["'fast'", "is 1", "[2, 500]"]),
        ({"fast": "10:600:10"}, ["'fast'", "is 600", "[2, 500]"]),
        ({"fast": [10, 700]}, ["'fast'", "700"]),
        ({"fast": "10.5"}, ["'fast'", "whole number", "10.5"]),
        ({"fast": "10:20:2.5"}, ["'fast'", "step 2.5"]),
        ({"fast": "20:10:1"}, ["'fast'", "min > max"]),
        ({"fast": "10:20:0"}, ["'fast'", "step 0"]),
        ({"fast": "10:20:-1"}, ["'fast'", "step -1"]),
        ({"k": "0:1"}, ["'k'", "needs a step"]),
        ({"fast": []}, ["'fast'", "empty"]),
        ({"k": "x"}, ["'k'", "'x' is not a number"]),
    ],
)
def test_bad_ranges_name_the_parameter_and_value(ranges: dict, needles: list[str]) -> None:
    with pytest.raises(ParameterError) as info:
        ParameterSpace(Cross, ranges)
    for needle in needles:
        assert needle in str(info.value)


# ---- counting and the strategy's rule ------------------------------------------------------------


def test_issue_example_grid_9_valid_8() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"})
    assert space.grid_size == 9
    assert space.valid_count == 8
    pairs = [(d["fast"], d["slow"]) for d in space.valid_combinations().to_dicts()]
    assert pairs == [(10, 20), (10, 25), (10, 30), (15, 20), (15, 25), (15, 30), (20, 25), (20, 30)]


def test_with_the_real_sma_crossover() -> None:
    strategies = pytest.importorskip("tradesweep.strategies")
    cls = strategies.strategy_class("sma_crossover")
    space = ParameterSpace(cls, {"fast": "10:20:5", "slow": "20:30:5"})
    assert (space.grid_size, space.valid_count) == (9, 8)


def test_combinations_convert_to_frames_and_dicts() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"})
    combos = space.valid_combinations()
    frame = combos.to_frame()
    assert frame.index.name == "grid_index"
    assert frame.index.tolist() == combos.index.tolist() == [0, 1, 2, 3, 4, 5, 7, 8]
    assert frame.columns.tolist() == ["fast", "slow", "k"]
    first = combos.to_dicts()[0]
    assert first == {"fast": 10, "slow": 20, "k": 1.0}
    assert type(first["fast"]) is int and type(first["k"]) is float
    assert combos[len(combos) - 1] == {"fast": 20, "slow": 30, "k": 1.0}


def test_valid_indices_are_the_grid_positions() -> None:
    # grid order: fast slowest, slow fastest -> (20, 20) is index 6, the only invalid one
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"})
    assert space.valid_indices().tolist() == [0, 1, 2, 3, 4, 5, 7, 8]


def test_forty_thousand_grid_counts() -> None:
    space = ParameterSpace(Cross, {"fast": "2:201", "slow": "3:202"})
    assert space.grid_size == 40_000
    assert space.valid_count == sum(1 for f in range(2, 202) for s in range(3, 203) if f < s)


def test_a_million_combinations() -> None:
    space = ParameterSpace(Cross, {"fast": "2:101", "slow": "3:202", "k": "0:4.95:0.1"})
    assert space.grid_size == 100 * 200 * 50
    expected_pairs = sum(1 for f in range(2, 102) for s in range(3, 203) if f < s)
    assert space.valid_count == expected_pairs * 50


@pytest.mark.parametrize("strategy", [ReadsAll, Branching])
def test_rule_shortcut_matches_brute_force(strategy: type[Strategy]) -> None:
    ranges = {p.name: f"{p.min}:{p.max}" for p in strategy.schema}
    space = ParameterSpace(strategy, ranges)
    assert space.valid_indices().tolist() == brute_force_valid(space, None)


def test_rule_shortcut_survives_a_second_query() -> None:
    space = ParameterSpace(Branching, {"mode": "0:2", "x": "0:9", "y": "0:9"})
    # first touch only mode=0 points (x never read), then points with mode=1
    assert space.is_valid([0, 1, 2]).all()
    idx = np.ravel_multi_index(([1, 1], [4, 5], [0, 0]), space.shape)
    assert space.is_valid(idx).tolist() == [True, False]


def test_none_valid_says_why() -> None:
    space = ParameterSpace(Cross, {"fast": "50:60", "slow": "10:20"})
    assert space.valid_count == 0
    with pytest.raises(ParameterError, match=r"none of the 121 .*fast must be below slow"):
        space.valid_combinations()
    with pytest.raises(ParameterError, match="none of"):
        space.sample(3, seed=1)
    constrained = ParameterSpace(Cross, {"fast": "5:6", "slow": "10:20"}, "slow > 100")
    with pytest.raises(ParameterError, match="the constraint 'slow > 100'"):
        constrained.valid_combinations()


# ---- size limit --------------------------------------------------------------------------------


def test_refuses_a_grid_above_the_limit_before_building_it() -> None:
    space = ParameterSpace(Cross, {"fast": "2:500", "slow": "3:1000", "k": "0:5:0.0001"})
    assert space.grid_size == 499 * 998 * 50_001  # ~2.5e10: never materialised
    with pytest.raises(ParameterError) as info:
        space.valid_combinations()
    message = str(info.value)
    for needle in ("24,900,598,002", "1,000,000", "narrow the ranges", "bigger step", "trials=N"):
        assert needle in message
    assert info.value.details["grid_size"] == space.grid_size
    with pytest.raises(ParameterError, match="above the limit"):
        _ = space.valid_count


def test_custom_limit() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"}, max_combinations=8)
    with pytest.raises(ParameterError, match="9 combinations, above the limit of 8"):
        space.valid_combinations()
    with pytest.raises(SettingsError):
        ParameterSpace(Cross, {}, max_combinations=0)


# ---- constraints -------------------------------------------------------------------------------

CONSTRAINTS = [
    "slow >= 2 * fast",
    "fast < slow and k < fast / 10",
    "not (slow - fast) % 3 == 0",
    "abs(slow - 3 * fast) <= 10 or k == 1",
    "min(fast, 2) + max(slow, k, 12) > 14",
    "10 <= fast * k < 20",
    "fast // 3 != slow // 5",
    "fast ** 2 > slow * 10",
    "-fast + +slow > 5",
    "slow / (fast - 10) > 1",  # division by zero at fast == 10 -> not valid
    "fast == 10 or slow / (fast - 10) > 1",  # ... unless `or` never gets there
    "fast != 10 and slow % (fast - 10) == 1",
    "not slow // (fast - 10) > 2",
    "1 > 2 < slow / (fast - 10)",  # the chain stops at 1 > 2
]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_constraint_matches_python(constraint: str) -> None:
    ranges = {"fast": "2:22:2", "slow": "3:40:3", "k": "0.5:2:0.5"}
    space = ParameterSpace(Cross, ranges, constraint)
    assert space.valid_indices().tolist() == brute_force_valid(space, constraint)


@settings(max_examples=30, deadline=None)
@given(
    fast=st.lists(st.integers(2, 30), min_size=1, max_size=6),
    slow=st.lists(st.integers(3, 40), min_size=1, max_size=6),
    constraint=st.sampled_from([None, *CONSTRAINTS]),
)
def test_valid_set_equals_brute_force(
    fast: list[int], slow: list[int], constraint: str | None
) -> None:
    space = ParameterSpace(Cross, {"fast": fast, "slow": slow, "k": [0.5, 1.5]}, constraint)
    assert space.valid_indices().tolist() == brute_force_valid(space, constraint)


@pytest.mark.parametrize(
    ("constraint", "needle"),
    [
        ("__import__('os').system('x')", "__import__('os').system"),
        ("fast.real > 1", "'fast.real'"),
        ("open('f')", "'open'"),
        ("(lambda: 1)() > 0", "lambda"),
        ("fast if slow else 1", "'fast if slow else 1'"),
        ("[fast][0] > 1", "[fast][0]"),
        ("'a' < 'b'", "'a'"),
        ("True", "True"),
        ("fsat < slow", "did you mean 'fast'"),
        ("fast < slow < ", "not a valid expression"),
        ("fast - slow", "must be a comparison"),
        ("abs(fast, slow) > 1", "wrong number of arguments"),
        ("max(fast) > 1", "wrong number of arguments"),
        ("max(*[fast]) > 1", "max(*[fast])"),
        ("fast in (1, 2)", "fast in (1, 2)"),
        ("fast @ slow > 1", "fast @ slow"),
        ("abs(x=fast) > 1", "abs(x=fast)"),
    ],
)
def test_unsafe_or_bad_constraints_are_refused(constraint: str, needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        ParameterSpace(Cross, {"fast": "2:5"}, constraint)
    assert needle in str(info.value)
    assert info.value.details["constraint"] == constraint


def test_constraint_may_use_unswept_parameters() -> None:
    space = ParameterSpace(Cross, {"fast": "10:40:10"}, "fast < slow - 5")  # slow = 30
    assert [d["fast"] for d in space.valid_combinations().to_dicts()] == [10, 20]


# ---- sampling ----------------------------------------------------------------------------------


def test_sample_small_grid_is_seeded_distinct_and_valid() -> None:
    space = ParameterSpace(Cross, {"fast": "2:60", "slow": "3:60"}, "slow >= 2 * fast")
    a = space.sample(50, seed=7)
    b = space.sample(50, seed=7)
    c = space.sample(50, seed=8)
    assert a.index.tolist() == b.index.tolist() != c.index.tolist()
    assert len(set(a.index.tolist())) == 50
    assert set(a.index.tolist()) <= set(space.valid_indices().tolist())
    assert a.index.tolist() == sorted(a.index.tolist())


def test_sample_more_than_valid_gives_all() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"})
    assert space.sample(100, seed=1).index.tolist() == space.valid_indices().tolist()
    with pytest.raises(SettingsError, match="positive integer"):
        space.sample(0)


def test_sample_huge_grid_without_building_it() -> None:
    space = ParameterSpace(Cross, {"fast": "2:500", "slow": "3:1000", "k": "0:5:0.0001"})
    combos = space.sample(2000, seed=3)
    assert len(combos) == 2000 == len(set(combos.index.tolist()))
    assert space.is_valid(combos.index).all()
    for params in combos.to_dicts()[:200]:
        Cross.validate_params(params)
    assert space.sample(2000, seed=3).index.tolist() == combos.index.tolist()
    # uniform over the valid set: each fast f has 1000 - f valid slows (slow in f+1..1000)
    expected = sum(1000 - f for f in range(2, 250)) / sum(1000 - f for f in range(2, 501))
    assert abs(np.mean(combos.columns["fast"] < 250) - expected) < 0.04  # ~4 standard errors


def test_sample_huge_grid_with_a_constraint_that_rejects_everything() -> None:
    space = ParameterSpace(Cross, {"fast": "2:500", "slow": "3:1000", "k": "0:5:0.0001"}, "k > 9")
    with pytest.raises(ParameterError, match="reject nearly all"):
        space.sample(10, seed=1)


# ---- neighbours --------------------------------------------------------------------------------


def test_neighbours_on_a_3x3_grid() -> None:
    space = ParameterSpace(Free, {"a": "1:3", "b": "1:3"})
    # index = 3 * (a - 1) + (b - 1)
    assert space.neighbours(4).tolist() == [1, 3, 5, 7]
    assert space.neighbours(0).tolist() == [1, 3]
    assert space.neighbours(8).tolist() == [5, 7]


def test_neighbours_skip_invalid_combinations() -> None:
    space = ParameterSpace(Cross, {"fast": "10:20:5", "slow": "20:30:5"})
    # (15, 25) is index 4; its neighbours (10,25)=1, (20,25)=7, (15,20)=3, (15,30)=5 are valid
    assert space.neighbours(4).tolist() == [1, 3, 5, 7]
    # (20, 25) is index 7: (20, 20) = 6 is invalid
    assert space.neighbours(7).tolist() == [4, 8]
    with pytest.raises(ParameterError, match="out of range"):
        space.neighbours(9)


def test_neighbours_on_a_huge_grid() -> None:
    space = ParameterSpace(Cross, {"fast": "2:500", "slow": "3:1000", "k": "0:5:0.0001"})
    index = int(np.ravel_multi_index((8, 27, 100), space.shape))  # fast 10, slow 30, k 0.01
    got = space.combinations(space.neighbours(index)).to_dicts()
    assert {(d["fast"], d["slow"], d["k"]) for d in got} == {
        (9, 30, 0.01),
        (11, 30, 0.01),
        (10, 29, 0.01),
        (10, 31, 0.01),
        (10, 30, 0.0099),
        (10, 30, 0.0101),
    }
