"""Keyset (cursor) pages: stable under inserts, unlike offsets.

A cursor is opaque to clients but comes back from them, so :func:`decode_cursor` checks its
every value against the kind the query needs (an aware datetime, a short id, a non-negative
int64) before it reaches SQL; anything else is :class:`InvalidCursor` naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from tradesweep.errors import TradesweepError
from tradesweep.jsontext import loads

T = TypeVar("T")

INT64_MAX = 2**63 - 1
MAX_CURSOR_ID = 64
"""Characters of an id inside a cursor (ids are 36-character UUIDs)."""


class InvalidCursor(TradesweepError):
    """A ``cursor`` that is not a ``next_cursor`` this service gave out."""

    code = "invalid_cursor"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of ``items``; pass ``next_cursor`` back to get the next (None: last page)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The values of ``cursor``, one per kind: ``datetime`` (ISO text with an offset, returned
    as an aware UTC datetime), ``str`` (an id of at most :data:`MAX_CURSOR_ID` characters) or
    ``int`` (0..int64 max). Raises :class:`InvalidCursor` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = loads(base64.urlsafe_b64decode(padded.encode("ascii")), max_depth=1)
    except (ValueError, binascii.Error, UnicodeError):
        values = None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise _invalid(cursor)
    return [_typed(value, kind, cursor) for value, kind in zip(values, kinds, strict=True)]


def _typed(value: Any, kind: type, cursor: str) -> Any:
    if kind is datetime and isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
        raise _invalid(cursor)
    if kind is str:
        ok = isinstance(value, str) and 0 < len(value) <= MAX_CURSOR_ID
    else:
        ok = kind is int and type(value) is int and 0 <= value <= INT64_MAX
    if not ok:
        raise _invalid(cursor)
    return value


def _invalid(cursor: str) -> InvalidCursor:
    shown = cursor if len(cursor) <= 60 else cursor[:60] + "..."
    return InvalidCursor(
        f"invalid cursor {shown!r}",
        fix="pass next_cursor from the previous page as is, or leave cursor out for the first page",
        field="cursor",
    )
