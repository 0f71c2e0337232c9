"""Keyset (cursor) pages: stable under inserts, unlike offsets."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tradesweep.errors import TradesweepError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of ``items``; pass ``next_cursor`` back to get the next (None: last page)."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise TradesweepError(
            f"invalid cursor {cursor!r}", fix="pass next_cursor from the previous page as is"
        )
    return values
