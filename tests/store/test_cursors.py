"""Cursors come back from clients: whatever a cursor holds, decoding gives the typed values
the query needs or :class:`InvalidCursor` naming ``cursor``, nothing else."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradesweep.store.pagination import (
    INT64_MAX,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)

KINDS = [(datetime, str), (int,)]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decodes_or_refuses(cursor: str, kinds: tuple[type, ...]) -> None:
    try:
        values = decode_cursor(cursor, *kinds)
    except InvalidCursor as exc:
        assert exc.details["field"] == "cursor"
        return
    for value, kind in zip(values, kinds, strict=True):
        if kind is datetime:
            assert value.tzinfo is not None
        elif kind is int:
            assert type(value) is int and 0 <= value <= INT64_MAX
        else:
            assert isinstance(value, str) and len(value) <= 64


@given(value=json_values)
@pytest.mark.parametrize("kinds", KINDS)
def test_any_json_decodes_typed_or_is_refused(kinds: tuple[type, ...], value: object) -> None:
    _decodes_or_refuses(_b64(json.dumps(value).encode()), kinds)


@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
@pytest.mark.parametrize("kinds", KINDS)
def test_any_bytes_decode_typed_or_are_refused(kinds: tuple[type, ...], raw: bytes) -> None:
    _decodes_or_refuses(_b64(raw), kinds)


@given(text=st.text(max_size=80))
def test_any_text_as_the_cursor_is_refused_or_typed(text: str) -> None:
    _decodes_or_refuses(text, (int,))


def test_given_out_cursors_round_trip() -> None:
    moment = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment.isoformat(), "a" * 36), datetime, str) == [
        moment,
        "a" * 36,
    ]
    assert decode_cursor(encode_cursor(INT64_MAX), int) == [INT64_MAX]


@pytest.mark.parametrize(
    "values",
    [[1, 2], ["notadate", "x"], ["2024-01-01T00:00:00", "x"], [None, "x"], ["", "x"]],
)
def test_the_probe_cases_are_refused(values: list[object]) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(*values), datetime, str)
