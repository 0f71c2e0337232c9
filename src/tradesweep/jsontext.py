"""JSON from a client, decoded with a bound on nesting.

``json.loads`` recurses once per level: ``[`` x 100,000 raises :class:`RecursionError` (not a
:class:`ValueError`), and a document just under the interpreter's limit still makes every
recursive walk after it (validation, NUL checks) fail the same way. :func:`loads` refuses both
with :class:`TooDeep`, a ``ValueError``, so every caller's "not valid JSON" path covers it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
"""Levels of arrays and objects a client's JSON may nest: a request needs 3 or 4."""


class TooDeep(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH` levels."""

    def __init__(self, max_depth: int = MAX_DEPTH) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(text)``; :class:`TooDeep` beyond ``max_depth`` levels, ``ValueError`` for
    anything that is not JSON (``UnicodeDecodeError`` included)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if depth(value, max_depth) > max_depth:
        raise TooDeep(max_depth)
    return value


_CONTAINERS = (dict, list, tuple)


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep lists and dicts nest in ``value`` (a scalar: 0), counted without recursion;
    the walk stops as soon as it passes ``limit``. Only containers go on the stack, so a wide
    array of numbers costs no memory per item."""
    if not isinstance(value, _CONTAINERS):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, _CONTAINERS))
    return deepest
