"""Numba loops for the built-ins whose rule carries state from bar to bar."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lowest_crossed_down_nb(prev: float, close: float, levels: np.ndarray) -> int:
    """Index of the lowest level ``k <= len(levels) - 2`` with ``close < levels[k] <= prev``,
    or -1 (NaN crosses nothing)."""
    for k in range(levels.shape[0] - 1):
        if close < levels[k] and prev >= levels[k]:
            return k
    return -1


@njit(cache=True)
def highest_crossed_up_nb(prev: float, close: float, levels: np.ndarray) -> int:
    """Index of the highest level ``k >= 1`` with ``prev <= levels[k] < close``, or -1."""
    for k in range(levels.shape[0] - 1, 0, -1):
        if close > levels[k] and prev <= levels[k]:
            return k
    return -1


@njit(cache=True)
def grid_signals_nb(
    close: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grid rule (no pandas equivalent; oracle: the streaming form and the plain loop in the
    tests). Returns ``(long_entry, long_exit, short_entry, short_exit)``.

    Long leg: flat -> entry on a cross down through a level (the lowest crossed, never the top
    one), remembering it as ``k``; long -> exit on the first close above ``levels[k + 1]``.
    Short leg mirrors it. The legs are independent; each moves at most once per bar.
    """
    n = close.shape[0]
    long_entry = np.zeros(n, dtype=np.bool_)
    long_exit = np.zeros(n, dtype=np.bool_)
    short_entry = np.zeros(n, dtype=np.bool_)
    short_exit = np.zeros(n, dtype=np.bool_)
    long_at = -1
    short_at = -1
    for t in range(1, n):
        prev = close[t - 1]
        c = close[t]
        if long_at >= 0:
            if c > levels[long_at + 1]:
                long_exit[t] = True
                long_at = -1
        else:
            k = lowest_crossed_down_nb(prev, c, levels)
            if k >= 0:
                long_entry[t] = True
                long_at = k
        if short_at >= 0:
            if c < levels[short_at - 1]:
                short_exit[t] = True
                short_at = -1
        else:
            k = highest_crossed_up_nb(prev, c, levels)
            if k >= 0:
                short_entry[t] = True
                short_at = k
    return long_entry, long_exit, short_entry, short_exit
