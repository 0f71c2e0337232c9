"""Rule primitives shared by the vectorised and the streaming forms.

A *cross above* at bar t means ``a[t] > b[t]`` and ``a[t-1] <= b[t-1]``, with all four values
defined; a *cross below* mirrors it. Any comparison with NaN is false, in numpy and in Python
alike, so a cross never fires while an indicator is warming up and both forms agree exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tradesweep.strategies.base import SignalFlag

NAN = math.nan


def price(bars: pd.DataFrame, column: str) -> np.ndarray:
    """One bar column as a contiguous float64 array (what the kernels take)."""
    return np.ascontiguousarray(bars[column].to_numpy(dtype=np.float64))


def crosses_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """``a[t] > b[t] and a[t-1] <= b[t-1]``; False on bar 0 and wherever a value is NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    out = np.zeros(a.shape[0], dtype=np.bool_)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def crosses_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """``a[t] < b[t] and a[t-1] >= b[t-1]``; False on bar 0 and wherever a value is NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    out = np.zeros(a.shape[0], dtype=np.bool_)
    out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out


def shift(x: np.ndarray, periods: int = 1) -> np.ndarray:
    """``x`` delayed by ``periods`` bars, NaN-filled at the start (never a negative shift)."""
    if periods < 0:
        raise ValueError("a negative shift would look ahead")
    out = np.full(x.shape[0], np.nan)
    if periods == 0:
        out[:] = x
    elif periods < x.shape[0]:
        out[periods:] = x[:-periods]
    return out


def mask_before(x: np.ndarray, first: int) -> np.ndarray:
    """A copy of ``x`` with the first ``first`` values set to NaN."""
    out = np.array(x, dtype=np.float64, copy=True)
    out[: max(first, 0)] = np.nan
    return out


class Crossing:
    """Streaming twin of :func:`crosses_above` / :func:`crosses_below` for one pair of series."""

    __slots__ = ("_a", "_b")

    def __init__(self) -> None:
        self._a = NAN
        self._b = NAN

    def update(self, a: float, b: float) -> tuple[bool, bool]:
        """Feed this bar's values; returns ``(crossed_above, crossed_below)``."""
        above = a > b and self._a <= self._b
        below = a < b and self._a >= self._b
        self._a = a
        self._b = b
        return above, below


def to_flag(
    long_entry: bool, long_exit: bool, short_entry: bool, short_exit: bool
) -> SignalFlag | None:
    """The bar's SignalFlag from four booleans (None when nothing fired)."""
    flag = SignalFlag.NONE
    if long_entry:
        flag |= SignalFlag.LONG_ENTRY
    if long_exit:
        flag |= SignalFlag.LONG_EXIT
    if short_entry:
        flag |= SignalFlag.SHORT_ENTRY
    if short_exit:
        flag |= SignalFlag.SHORT_EXIT
    return flag if flag else None
