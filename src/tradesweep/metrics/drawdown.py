"""Drawdowns of an equity curve: the series, its episodes, and their summary statistics.

The running peak starts at the initial cash: ``peak[t] = max(initial_cash, equity[0..t])``.
A strategy that loses on its first bar is in drawdown from the money it started with, the
same base the per-bar returns use.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class DrawdownEpisodes(NamedTuple):
    """One row per drawdown episode, a maximal run of bars with ``equity < peak``.

    ``peak_idx``: the bar that set the peak (0 when the peak is the initial cash);
    ``end_idx``: the first bar back at or above the peak, or the last bar if never recovered;
    ``trough``: the deepest drawdown of the episode, a negative fraction;
    ``recovered``: whether ``end_idx`` is a recovery.
    """

    peak_idx: np.ndarray
    end_idx: np.ndarray
    trough: np.ndarray
    recovered: np.ndarray


def drawdown_series(equity: np.ndarray, initial_cash: float) -> np.ndarray:
    """``dd[t] = equity[t] / peak[t] - 1`` with ``peak[t] = max(initial_cash, equity[0..t])``:
    a fraction, zero at a new high and negative below it.

    Pandas equivalent: ``s / s.cummax().clip(lower=initial_cash) - 1``.
    """
    equity = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(np.maximum(equity, float(initial_cash)))
    return equity / peak - 1.0


def drawdown_episodes(drawdown: np.ndarray) -> DrawdownEpisodes:
    """Split a drawdown series (from :func:`drawdown_series`) into episodes."""
    dd = np.asarray(drawdown, dtype=np.float64)
    under = dd < 0
    if not under.any():
        empty = np.empty(0, dtype=np.int64)
        return DrawdownEpisodes(empty, empty, np.empty(0), np.empty(0, dtype=bool))
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # one past the last bar under water
    last = dd.size - 1
    return DrawdownEpisodes(
        peak_idx=np.maximum(starts - 1, 0),
        end_idx=np.minimum(stops, last),
        trough=np.minimum.reduceat(dd, starts),
        recovered=stops <= last,
    )


def max_drawdown_pct(drawdown: np.ndarray) -> float:
    """``min(dd) * 100``: the deepest fall below a running peak, as a negative percentage
    (0.0 when equity never falls below its peak)."""
    dd = np.asarray(drawdown, dtype=np.float64)
    return min(float(dd.min()), 0.0) * 100.0 if dd.size else 0.0


def avg_drawdown_pct(episodes: DrawdownEpisodes) -> float:
    """``mean(trough of each episode) * 100``, negative; 0.0 when there is no episode
    (consistent with ``max_drawdown_pct == 0.0``)."""
    return float(episodes.trough.mean()) * 100.0 if episodes.trough.size else 0.0


def max_drawdown_duration_days(episodes: DrawdownEpisodes, days: np.ndarray) -> float:
    """Longest ``time[end_idx] - time[peak_idx]`` over the episodes, in calendar days (a
    float: 0.5 is twelve hours). From the peak bar to the recovery bar, or to the last bar for
    an episode still open at the end; 0.0 when there is no episode. ``days`` is the bar
    clock in days (:func:`~tradesweep.metrics.periods.day_clock`)."""
    if not episodes.peak_idx.size:
        return 0.0
    return float((days[episodes.end_idx] - days[episodes.peak_idx]).max())


def calmar_ratio(annualized_return: float | None, max_drawdown: float) -> float | None:
    """``annualized_return_pct / |max_drawdown_pct|``; ``None`` without a drawdown (the ratio
    is unbounded) or without an annualized return."""
    if annualized_return is None or max_drawdown == 0:
        return None
    return annualized_return / abs(max_drawdown)
