"""Client JSON with a bound on nesting: deep documents are :class:`TooDeep` (a ValueError),
never a RecursionError, however deep."""

from __future__ import annotations

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
