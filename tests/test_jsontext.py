"""Client JSON with a bound on nesting: deep documents are :class:`TooDeep` (a ValueError),
never a RecursionError, however deep."""

from __future__ import annotations

import tracemalloc

import pytest

from tradesweep.jsontext import MAX_DEPTH, TooDeep, depth, loads


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "[" * 5_000 + "]" * 5_000, '{"a":' * 3_000 + "1" + "}" * 3_000],
)
def test_deep_documents_are_too_deep(text: str) -> None:
    with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH} levels"):
        loads(text)


def test_the_limit_is_exact() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_other_bad_json_stays_a_plain_value_error() -> None:
    for text in ("{", "nope", b"\xff"):
        with pytest.raises(ValueError) as caught:
            loads(text)
        assert not isinstance(caught.value, TooDeep)


def test_depth() -> None:
    assert depth(1) == 0
    assert depth([]) == 1
    assert depth({"a": [1, {"b": []}]}) == 4


def test_depth_keeps_only_containers_on_its_stack() -> None:
    """A wide document of scalars (a long array of numbers, a big object of strings) is walked
    without a stack entry per scalar: its peak memory stays far below one entry per item."""
    wide = {"values": list(range(200_000)), "names": {str(i): "x" for i in range(50_000)}}
    tracemalloc.start()
    try:
        assert depth(wide) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, f"{peak:,} bytes for {len(wide['values']):,} scalars"
