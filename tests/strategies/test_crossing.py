"""Cross primitives: the definition, NaN handling, and streaming == vectorised."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesweep.strategies.base import SignalFlag
from tradesweep.strategies.crossing import (
    Crossing,
    crosses_above,
    crosses_below,
    mask_before,
    shift,
    to_flag,
)

nan = math.nan


def oracle(a: list[float], b: list[float]) -> tuple[list[bool], list[bool]]:
    """The definition, written out: both bars defined, strict now, non-strict before."""
    up, down = [False] * len(a), [False] * len(a)
    for t in range(1, len(a)):
        values = (a[t], b[t], a[t - 1], b[t - 1])
        if any(math.isnan(v) for v in values):
            continue
        up[t] = a[t] > b[t] and a[t - 1] <= b[t - 1]
        down[t] = a[t] < b[t] and a[t - 1] >= b[t - 1]
    return up, down


def test_touching_then_crossing_counts_once():
    a = np.array([1.0, 2.0, 3.0, 3.0, 4.0])
    b = np.array([2.0, 2.0, 2.0, 3.0, 3.0])
    # bar 1 equal (not above), bar 2 above after equal: a cross; bar 4 above after equal: a cross
    assert crosses_above(a, b).tolist() == [False, False, True, False, True]
    assert crosses_below(a, b).tolist() == [False, False, False, False, False]


def test_nan_on_either_bar_blocks_the_cross():
    a = np.array([nan, 3.0, 1.0, 3.0, nan, 3.0])
    assert crosses_above(a, 2.0).tolist() == [False, False, False, True, False, False]
    assert crosses_below(a, 2.0).tolist() == [False, False, True, False, False, False]


values = st.one_of(st.just(nan), st.sampled_from([0.0, 1.0, 2.0]), st.floats(-5, 5))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(values, values), min_size=0, max_size=40))
def test_vectorised_and_streaming_match_the_definition(pairs):
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    up, down = oracle(a, b)
    assert crosses_above(np.array(a), np.array(b)).tolist() == up
    assert crosses_below(np.array(a), np.array(b)).tolist() == down
    crossing = Crossing()
    streamed = [crossing.update(x, y) for x, y in pairs]
    assert [s[0] for s in streamed] == up
    assert [s[1] for s in streamed] == down


def test_shift_and_mask():
    x = np.arange(5, dtype=float)
    assert np.array_equal(shift(x, 2), [nan, nan, 0.0, 1.0, 2.0], equal_nan=True)
    assert np.array_equal(shift(x, 0), x)
    assert np.isnan(shift(x, 9)).all()
    assert np.array_equal(mask_before(x, 2), [nan, nan, 2.0, 3.0, 4.0], equal_nan=True)


def test_to_flag():
    assert to_flag(False, False, False, False) is None
    assert to_flag(True, False, False, True) == SignalFlag.LONG_ENTRY | SignalFlag.SHORT_EXIT
