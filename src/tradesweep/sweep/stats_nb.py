"""Per-combination accumulators that give every scalar of ``compute_metrics`` without an
equity curve, a position array or trade records.

A fused sweep kernel feeds one accumulator row (``acc``, ``N_ACC`` float64 slots indexed by
the ``A_*`` constants) per combination:

* :func:`fold_chunk_nb` folds a chunk of up to ``CHUNK`` equity values (marked at the closes,
  as ``BacktestResult.equity``; ``eq[0]`` holds the equity before the chunk) into the return
  sums and the drawdown episodes. Bars whose equity equals the bar before (flat, most of a
  long-only run) are only counted: their return is exactly 0 and they change no drawdown;
* :func:`fold_trades_nb` folds the trades the engine step just closed;
* :func:`finish_nb` closes the last drawdown episode and copies the engine's counters.

Sums use Neumaier compensation (a ``*_C`` slot holds each one's compensation: the value is
``acc[A_X] + acc[A_X_C]``); the variance merges each chunk's two-pass sum of squared
deviations with Chan's formula, so the results match numpy's pairwise sums in
``tradesweep.metrics`` to ~1e-14 relative. :func:`tradesweep.sweep.fused.metrics_from_acc` turns
the rows into the metric columns with the formulas of ``docs/metrics.md``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tradesweep.engine.nb import ST_N_TRADES, ST_SAME_BAR, ST_TOTAL_FEES
from tradesweep.indicators.nb import neumaier_add

CHUNK = 256
"""Bars buffered between two folds: small enough for L1, large enough to vectorise."""

A_FINAL_EQUITY = 0
A_RUINED = 1  # 1.0 once a previous equity was <= 0 (that bar's return is undefined)
A_N_RET = 2  # defined returns
A_SUM_R = 3
A_SUM_R_C = 4
A_M2 = 5  # sum of squared deviations of the returns from their mean
A_SUM_DOWN2 = 6  # sum of min(r, 0) ** 2
A_SUM_DOWN2_C = 7
A_MIN_TROUGH = 8  # deepest episode trough (a fraction <= 0); 0.0 without an episode
A_N_EPISODES = 9
A_SUM_TROUGH = 10
A_SUM_TROUGH_C = 11
A_MAX_DD_DAYS = 12
A_N_TRADES = 13
A_N_WINS = 14
A_SUM_WIN = 15
A_SUM_WIN_C = 16
A_N_LOSSES = 17
A_SUM_LOSS = 18
A_SUM_LOSS_C = 19
A_SUM_PNL_PCT = 20
A_SUM_PNL_PCT_C = 21
A_SUM_LOG_GROWTH = 22
A_SUM_LOG_GROWTH_C = 23
A_BAD_GROWTH = 24  # 1.0 once a trade's growth factor 1 + pnl_pct / 100 was <= 0
A_BEST_PCT = 25
A_WORST_PCT = 26
A_MAX_WIN = 27
A_MIN_LOSS = 28
A_SUM_HELD_DAYS = 29
A_SUM_HELD_DAYS_C = 30
A_EXPOSED_BARS = 31
A_TOTAL_FEES = 32
A_SAME_BAR = 33
A_PEAK = 34  # drawdown tracking: running peak max(cash, equity[0..t])
A_UNDER = 35  # 1.0 while under water (equity < peak)
A_LOW = 36  # lowest equity of the open episode
A_EPISODE_PEAK_IDX = 37  # bar that set the open episode's peak
N_ACC = 38


@njit(cache=True)
def init_acc_nb(acc: np.ndarray, cash: float) -> None:
    """Reset one accumulator row for a run starting with ``cash``."""
    acc[:] = 0.0
    acc[A_FINAL_EQUITY] = cash
    acc[A_BEST_PCT] = -np.inf
    acc[A_WORST_PCT] = np.inf
    acc[A_MAX_WIN] = -np.inf
    acc[A_MIN_LOSS] = np.inf
    acc[A_PEAK] = cash


@njit(cache=True)
def add_nb(acc: np.ndarray, slot: int, x: float) -> None:
    """Neumaier-add ``x`` to the compensated sum in ``acc[slot]`` / ``acc[slot + 1]``."""
    acc[slot], acc[slot + 1] = neumaier_add(acc[slot], acc[slot + 1], x)


@njit(cache=True, error_model="numpy")
def chunk_returns_nb(eq: np.ndarray, m: int, r: np.ndarray) -> int:
    """``r[k] = eq[k + 1] / eq[k] - 1`` for ``k < m`` (``eq[0]`` is the equity before the
    chunk), NaN where ``eq[k] <= 0`` (``tradesweep.metrics.bar_returns``: after ruin a return
    is undefined). Returns how many are defined."""
    alive = True
    for k in range(m):
        alive &= eq[k] > 0.0
    if alive:
        for k in range(m):
            r[k] = eq[k + 1] / eq[k] - 1.0
        return m
    defined = 0
    for k in range(m):
        if eq[k] > 0.0:
            r[k] = eq[k + 1] / eq[k] - 1.0
            defined += 1
        else:
            r[k] = np.nan
    return defined


@njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def return_sums_nb(r: np.ndarray, m: int) -> tuple[float, float, float]:
    """``(sum r, sum r**2, sum min(r, 0)**2)`` of ``r[:m]`` (all defined), in SIMD lanes."""
    s1 = 0.0
    s2 = 0.0
    sd2 = 0.0
    for k in range(m):
        x = r[k]
        s1 += x
        s2 += x * x
        sd2 += x * x if x < 0.0 else 0.0
    return s1, s2, sd2


@njit(cache=True, fastmath={"reassoc"}, error_model="numpy")
def squared_deviations_nb(r: np.ndarray, m: int, mean: float) -> float:
    """``sum (r - mean)**2`` over ``r[:m]`` (all defined), in SIMD lanes."""
    total = 0.0
    for k in range(m):
        d = r[k] - mean
        total += d * d
    return total


@njit(cache=True, error_model="numpy")
def fold_returns_nb(
    acc: np.ndarray, r: np.ndarray, m: int, defined: int, zeros: int
) -> tuple[float, float, int]:
    """Fold the chunk's returns: ``r[:m]`` (NaN = undefined, left out) and ``zeros`` returns
    of exactly 0 (bars whose equity did not move), into the sums and the variance (two-pass
    within the chunk, Chan's merge across chunks). Returns the chunk's ``(sum r, sum r**2,
    count)`` for the block statistics."""
    if defined < m:
        acc[A_RUINED] = 1.0
        kept = 0
        for k in range(m):
            if r[k] == r[k]:
                r[kept] = r[k]
                kept += 1
    count = defined + zeros
    if count == 0:
        return 0.0, 0.0, 0
    s1, s2, sd2 = return_sums_nb(r, defined)
    mean_c = s1 / count
    m2_c = squared_deviations_nb(r, defined, mean_c) + zeros * mean_c * mean_c
    n_a = acc[A_N_RET]
    n_ab = n_a + count
    if n_a > 0.0:
        mean_a = (acc[A_SUM_R] + acc[A_SUM_R_C]) / n_a
        delta = mean_c - mean_a
        m2_c += delta * delta * n_a * count / n_ab
    acc[A_M2] += m2_c
    acc[A_N_RET] = n_ab
    add_nb(acc, A_SUM_R, s1)
    add_nb(acc, A_SUM_DOWN2, sd2)
    return s1, s2, count


@njit(cache=True, error_model="numpy")
def close_episode_nb(acc: np.ndarray, peak: float, low: float, end: int, days: np.ndarray):
    """Record the open drawdown episode, which ends at bar ``end`` (the recovery, or the last
    bar). Its trough ``low / peak - 1`` is the minimum of ``equity / peak - 1`` over the
    episode: the peak is constant under water and division by it is monotonic."""
    trough = low / peak - 1.0
    acc[A_MIN_TROUGH] = min(acc[A_MIN_TROUGH], trough)
    acc[A_N_EPISODES] += 1.0
    add_nb(acc, A_SUM_TROUGH, trough)
    duration = days[end] - days[int(acc[A_EPISODE_PEAK_IDX])]
    acc[A_MAX_DD_DAYS] = max(acc[A_MAX_DD_DAYS], duration)
    acc[A_UNDER] = 0.0


@njit(cache=True, error_model="numpy")
def fold_drawdown_nb(
    acc: np.ndarray, eq: np.ndarray, bar: np.ndarray, m: int, days: np.ndarray
) -> None:
    """Follow the drawdown episodes through the equity ``eq[1 : m + 1]`` of bars
    ``bar[:m]`` (``tradesweep.metrics.drawdown``: peak from the initial cash, an episode is a
    maximal run of bars with ``equity < peak``, from the bar before it to the recovery bar).
    Bars left out between them held the equity before them, which neither starts nor ends an
    episode."""
    peak = acc[A_PEAK]
    under = acc[A_UNDER] != 0.0
    low = acc[A_LOW]
    for k in range(m):
        e = eq[k + 1]
        if e < peak:
            if not under:
                i = bar[k]
                under = True
                low = e
                acc[A_EPISODE_PEAK_IDX] = i - 1 if i > 0 else 0
            elif e < low:
                low = e
        else:
            if under:
                close_episode_nb(acc, peak, low, bar[k], days)
                under = False
            peak = e
    acc[A_PEAK] = peak
    acc[A_UNDER] = 1.0 if under else 0.0
    acc[A_LOW] = low


@njit(cache=True)
def fold_chunk_nb(
    acc: np.ndarray,
    eq: np.ndarray,
    bar: np.ndarray,
    r: np.ndarray,
    m: int,
    zeros: int,
    days: np.ndarray,
) -> tuple[float, float, int]:
    """Fold a chunk: the equity ``eq[1 : m + 1]`` of bars ``bar[:m]`` (``eq[0]``: the equity
    before them; ``r`` is scratch) and ``zeros`` other bars whose equity equalled the bar
    before, a positive amount (their return is exactly 0). Leaves ``eq[0]`` at the last
    equity, ready for the next chunk. Returns the chunk's ``(sum r, sum r**2, count)`` for
    the block statistics."""
    defined = chunk_returns_nb(eq, m, r) if m > 0 else 0
    s1, s2, count = fold_returns_nb(acc, r, m, defined, zeros)
    if m > 0:
        fold_drawdown_nb(acc, eq, bar, m, days)
        acc[A_FINAL_EQUITY] = eq[m]
        eq[0] = eq[m]
    return s1, s2, count


N_BLOCK_ROWS = 5  # per block: sum r and its compensation, sum r**2 and its, count


@njit(cache=True)
def fold_into_block_nb(
    acc: np.ndarray,
    eq: np.ndarray,
    bar: np.ndarray,
    r: np.ndarray,
    m: int,
    zeros: int,
    days: np.ndarray,
    blocks: np.ndarray,
    b: int,
) -> None:
    """:func:`fold_chunk_nb`, then add the chunk's return statistics to block ``b`` of
    ``blocks`` (rows: sum of returns and its Neumaier compensation, sum of squares and its
    compensation, count)."""
    sums, squares, count = fold_chunk_nb(acc, eq, bar, r, m, zeros, days)
    blocks[0, b], blocks[1, b] = neumaier_add(blocks[0, b], blocks[1, b], sums)
    blocks[2, b], blocks[3, b] = neumaier_add(blocks[2, b], blocks[3, b], squares)
    blocks[4, b] += count


@njit(cache=True)
def fold_trades_nb(acc: np.ndarray, records: np.ndarray, k: int, days: np.ndarray) -> None:
    """Fold the ``k`` trades in ``records[:k]`` (``tradesweep.metrics.trades.trade_stats``)."""
    for j in range(k):
        pnl = records[j]["pnl"]
        pct = records[j]["pnl_pct"]
        acc[A_N_TRADES] += 1.0
        if pnl > 0.0:
            acc[A_N_WINS] += 1.0
            add_nb(acc, A_SUM_WIN, pnl)
            acc[A_MAX_WIN] = max(acc[A_MAX_WIN], pnl)
        elif pnl < 0.0:
            acc[A_N_LOSSES] += 1.0
            add_nb(acc, A_SUM_LOSS, pnl)
            acc[A_MIN_LOSS] = min(acc[A_MIN_LOSS], pnl)
        add_nb(acc, A_SUM_PNL_PCT, pct)
        growth = 1.0 + pct / 100.0
        if growth > 0.0:
            add_nb(acc, A_SUM_LOG_GROWTH, math.log(growth))
        else:
            acc[A_BAD_GROWTH] = 1.0
        acc[A_BEST_PCT] = max(acc[A_BEST_PCT], pct)
        acc[A_WORST_PCT] = min(acc[A_WORST_PCT], pct)
        held = days[records[j]["exit_idx"]] - days[records[j]["entry_idx"]]
        add_nb(acc, A_SUM_HELD_DAYS, held)


@njit(cache=True)
def finish_nb(acc: np.ndarray, state: np.ndarray, exposed: int, days: np.ndarray) -> None:
    """After the last bar: close an episode still under water (it ends on the last bar) and
    copy the engine's counters."""
    if acc[A_UNDER] != 0.0:
        close_episode_nb(acc, acc[A_PEAK], acc[A_LOW], days.shape[0] - 1, days)
    acc[A_EXPOSED_BARS] = exposed
    acc[A_TOTAL_FEES] = state[ST_TOTAL_FEES]
    acc[A_SAME_BAR] = state[ST_SAME_BAR]


@njit(cache=True)
def drain_trades_nb(acc: np.ndarray, state: np.ndarray, records: np.ndarray, days: np.ndarray):
    """Fold the trades the engine step wrote into ``records`` and empty the buffer."""
    k = int(state[ST_N_TRADES])
    if k > 0:
        fold_trades_nb(acc, records, k, days)
        state[ST_N_TRADES] = 0.0
