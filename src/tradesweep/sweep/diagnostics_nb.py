"""Numba kernels of the sweep diagnostics. numpy-only, ``cache=True``; the wrappers live in
:mod:`tradesweep.sweep.diagnostics`."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def sharpe_key_nb(sum_r: float, sum_r2: float, count: float) -> float:
    """A key that orders like the per-period Sharpe ratio ``mean / std`` (sample std, ddof=1)
    of ``count`` returns with these sums: ``sign(SR) * SR^2``, which is
    ``s * |s| * (c - 1) / (c * (c * s2 - s^2))``, one division and no square root. 0.0 (like a
    flat strategy) with fewer than 2 returns or no variation up to rounding. pandas:
    ``np.sign(sr) * sr**2`` with ``sr = r.mean() / r.std()``.

    Branch-free (the division is done either way, ``error_model="numpy"`` lets it give inf or
    NaN without a check) so the loops calling it vectorise."""
    d = count * sum_r2 - sum_r * sum_r
    key = sum_r * abs(sum_r) * (count - 1.0) / (count * d)
    return key if (count >= 2.0) & (d > 1e-12 * sum_r2 * (count - 1.0)) else 0.0


@njit(cache=True)
def _subset_sums_nb(
    stat: np.ndarray, first: int, size: int, start: int, m: int, out: np.ndarray
) -> None:
    """``out[mask, j]`` = sum of ``stat[first + i, start + j]`` over the bits i set in ``mask``,
    for every mask of ``size`` bits (each built from a smaller one with one more block)."""
    out[0, :m] = 0.0
    for mask in range(1, 1 << size):
        low = 0
        while not (mask >> low) & 1:
            low += 1
        prev = mask ^ (1 << low)
        for j in range(m):
            out[mask, j] = out[prev, j] + stat[first + low, start + j]


@njit(cache=True)
def _fill_subsets_nb(
    stats: tuple[np.ndarray, np.ndarray, np.ndarray],
    group_first: np.ndarray,
    group_size: np.ndarray,
    start: int,
    m: int,
    subsets: np.ndarray,
) -> None:
    """Subset sums of the three statistics for every block group; ``subsets[q, g]``."""
    for q in range(3):
        for g in range(group_first.shape[0]):
            _subset_sums_nb(stats[q], group_first[g], group_size[g], start, m, subsets[q, g])


@njit(cache=True, error_model="numpy")
def _half_keys_nb(
    subsets: np.ndarray, masks: np.ndarray, m: int, acc: np.ndarray, out: np.ndarray
) -> None:
    """:func:`sharpe_key_nb` of ``m`` combinations over the blocks chosen by ``masks`` (one
    bit mask per group); ``acc`` is (3, tile) scratch."""
    for q in range(3):
        acc[q, :m] = subsets[q, 0, masks[0], :m]
        for g in range(1, masks.shape[0]):
            acc[q, :m] += subsets[q, g, masks[g], :m]
    s = acc[0]
    s2 = acc[1]
    c = acc[2]
    for j in range(m):
        out[j] = sharpe_key_nb(s[j], s2[j], c[j])


@njit(cache=True, error_model="numpy")
def cscv_logits_nb(
    sum_r: np.ndarray,
    sum_r2: np.ndarray,
    count: np.ndarray,
    group_first: np.ndarray,
    group_size: np.ndarray,
    in_masks: np.ndarray,
    out_masks: np.ndarray,
    tile: int = 256,
) -> np.ndarray:
    """CSCV logit of every split. ``sum_r``, ``sum_r2``, ``count``: (n_blocks, n_combinations)
    per-block sums. The blocks are cut into groups of consecutive blocks (``group_first``,
    ``group_size``, at most ~10 each); ``in_masks`` / ``out_masks`` (n_splits, n_groups) give,
    per split and group, the bit mask of the blocks in the in-sample / out-of-sample half.

    For each split: the combination with the highest in-sample Sharpe ratio (the first on a
    tie), its out-of-sample rank r among all N (1 = worst; ties share their average rank),
    ``w = r / (N + 1)`` and the logit ``ln(w / (1 - w))``. numpy equivalent:
    ``reference_cscv_logits`` in ``tests/sweep/test_diagnostics.py``.

    Combinations are walked in cache-sized tiles; within a tile the sums over every subset of
    each group are precomputed, so a half costs one addition per group instead of one per
    block."""
    n = sum_r.shape[1]
    n_splits = in_masks.shape[0]
    stats = (sum_r, sum_r2, count)
    subsets = np.empty((3, group_first.shape[0], 1 << group_size.max(), tile))
    keys = np.empty(tile)
    acc = np.empty((3, tile))
    best_key = np.full(n_splits, -np.inf)
    best = np.zeros(n_splits, dtype=np.int64)
    for start in range(0, n, tile):
        m = min(tile, n - start)
        _fill_subsets_nb(stats, group_first, group_size, start, m, subsets)
        for k in range(n_splits):
            _half_keys_nb(subsets, in_masks[k], m, acc, keys)
            top = np.argmax(keys[:m])
            if keys[top] > best_key[k]:
                best_key[k] = keys[top]
                best[k] = start + top
    target = np.empty(n_splits)
    for k in range(n_splits):  # the same arithmetic as below, for the winner alone
        _fill_subsets_nb(stats, group_first, group_size, best[k], 1, subsets)
        _half_keys_nb(subsets, out_masks[k], 1, acc, keys)
        target[k] = keys[0]
    below = np.zeros(n_splits)
    equal = np.zeros(n_splits)
    for start in range(0, n, tile):
        m = min(tile, n - start)
        _fill_subsets_nb(stats, group_first, group_size, start, m, subsets)
        for k in range(n_splits):
            _half_keys_nb(subsets, out_masks[k], m, acc, keys)
            if start <= best[k] < start + m:
                keys[best[k] - start] = np.nan  # the winner is counted below, not against itself
            x = target[k]
            lower = 0
            same = 0
            for j in range(m):
                lower += keys[j] < x
                same += keys[j] == x
            below[k] += lower
            equal[k] += same
    w = (below + (equal + 2.0) / 2.0) / (n + 1.0)  # ties, the winner included, share a rank
    return np.log(w / (1.0 - w))
