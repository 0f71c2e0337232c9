"""The fused sweep kernel: every combination of a built-in strategy simulated in one numba
call, from indicator rows computed once per distinct setting.

``sweep_nb`` runs combination-major: ``prange`` over combinations, each one pass over the
bars that

1. derives the bar's four signals from the cached indicator rows with exactly the
   comparisons of the built-in's vectorised ``signals`` (:func:`bar_signals_nb`);
2. runs the engine's own :func:`~tradesweep.engine.nb.bar_step_nb` (fills, fees, sizing,
   stops, drawdown guard, directions, fill modes: the same code as ``run_backtest``);
3. feeds the accumulators of :mod:`tradesweep.sweep.stats_nb` instead of writing equity,
   position and trade arrays.

Memory: the indicator rows (distinct settings x bars) plus, per combination, one accumulator
row, its block statistics and a few KiB of scratch; never bars x combinations.

numba's on-disk cache keys a function on its own file only: after editing
``engine/nb.py`` or ``stats_nb.py``, delete this module's ``__pycache__/fused_nb*`` entries
(an installed package never changes, so users are not affected).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tradesweep.engine.enums import trade_dt
from tradesweep.engine.nb import (
    ST_CASH,
    ST_UNITS,
    KernelParams,
    bar_step_nb,
    bar_step_needed_nb,
    new_state_nb,
    uses_stops_nb,
)
from tradesweep.indicators.nb import (
    ema_nb,
    ema_talib_nb,
    ewm_step,
    rsi_nb,
    sma_nb,
    window_std_ddof,
)
from tradesweep.sweep.stats_nb import (
    CHUNK,
    N_BLOCK_ROWS,
    drain_trades_nb,
    finish_nb,
    fold_into_block_nb,
    init_acc_nb,
)

KIND_CROSS = 0  # sma_crossover, ema_crossover: rows (fast, slow)
KIND_RSI = 1  # rsi: row (rsi,), floats (oversold, overbought)
KIND_MACD = 2  # macd: rows (ema fast, ema slow), floats (signal alpha, first hist bar)
KIND_BOLLINGER = 3  # bollinger: rows (middle, std), floats (num_std, min_bandwidth)

MAX_CLOSES_PER_BAR = 8  # trade records one bar can close (at most 3 do)


@njit(cache=True, inline="always")
def cross_nb(a1: float, b1: float, a0: float, b0: float) -> tuple[bool, bool]:
    """``(a crosses above b, a crosses below b)`` at a bar from its values and the previous
    bar's (``tradesweep.strategies.crossing.crosses_above`` / ``crosses_below``)."""
    return (a1 > b1) and (a0 <= b0), (a1 < b1) and (a0 >= b0)


@njit(cache=True, inline="always")
def bollinger_bar_nb(
    m: float, sd: float, c1: float, c0: float, num_std: float, min_bw: float, lower0, upper0
):
    """``Bollinger.signals`` at one bar from the middle band ``m`` and the band's ``sd``,
    this close ``c1``, the previous close ``c0`` and the previous bands. Returns the four
    signals and this bar's ``(lower, upper)``."""
    upper = m + num_std * sd
    lower = m - num_std * sd
    width = (upper - lower) / m if m > 0.0 else np.nan
    wide = width >= min_bw
    long_exit = c1 >= m
    short_exit = c1 <= m
    up, _ = cross_nb(c1, lower, c0, lower0)
    _, down = cross_nb(c1, upper, c0, upper0)
    long_entry = up and wide and not long_exit
    short_entry = down and wide and not short_exit
    return long_entry, long_exit, short_entry, short_exit, lower, upper


@njit(cache=True, inline="always")
def macd_bar_nb(i: int, line: float, alpha: float, first_hist: float, w: float, wt: float, h0):
    """``Macd.signals`` at bar ``i`` from the MACD line (fast EMA - slow EMA, from the cached
    rows): the signal EMA steps as in ``macd_nb`` (same ``ewm_step``, state ``(w, wt)``) and
    the histogram crosses 0 (``h0``: the previous histogram). Returns the cross up, the cross
    down and the new ``(w, wt, hist)``."""
    w, wt = ewm_step(w, wt, line, alpha)
    hist = line - w if i >= first_hist else np.nan
    up, down = cross_nb(hist, 0.0, h0, 0.0)
    return up, down, w, wt, hist


@njit(cache=True, inline="always")
def bar_signals_nb(
    kind: int,
    i: int,
    u1: float,
    v1: float,
    u0: float,
    v0: float,
    c1: float,
    c0: float,
    f0: float,
    f1: float,
    s0: float,
    s1: float,
    s2: float,
):
    """``(long_entry, long_exit, short_entry, short_exit, s0, s1, s2)`` of one combination at
    bar ``i``, equal to the built-in's vectorised ``signals(bars)[...][i]``.

    ``u``/``v`` are the combination's two indicator rows and ``c`` the close, at this bar
    (``1``) and the previous one (``0``, NaN before bar 0: no cross on bar 0); ``f0, f1`` its
    float parameters; ``s0..s2`` the rule's state, returned updated. Scalars only: arrays
    passed into an inlined function cost reference counting on every bar."""
    if kind == KIND_CROSS:
        up, down = cross_nb(u1, v1, u0, v0)
        return up, down, down, up, s0, s1, s2
    if kind == KIND_RSI:
        up_os, down_os = cross_nb(u1, f0, u0, f0)
        up_ob, down_ob = cross_nb(u1, f1, u0, f1)
        return up_os and not up_ob, up_ob, down_ob and not down_os, down_os, s0, s1, s2
    if kind == KIND_MACD:
        up, down, s0, s1, s2 = macd_bar_nb(i, u1 - v1, f0, f1, s0, s1, s2)
        return up, down, down, up, s0, s1, s2
    le, lx, se, sx, s0, s1 = bollinger_bar_nb(u1, v1, c1, c0, f0, f1, s0, s1)
    return le, lx, se, sx, s0, s1, s2


@njit(cache=True)
def simulate_combination_nb(
    kind: int,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    days: np.ndarray,
    ind: np.ndarray,
    rows: np.ndarray,
    fpar: np.ndarray,
    block_start: np.ndarray,
    p: KernelParams,
    acc: np.ndarray,
    blocks: np.ndarray,
) -> None:
    """One combination over every bar: fills ``acc`` (an ``N_ACC`` row) and ``blocks``
    (``(N_BLOCK_ROWS, n_blocks)``, zeroed, see :func:`fold_into_block_nb`)."""
    n = close.shape[0]
    state = new_state_nb(p)
    stops = uses_stops_nb(p)
    busy = bar_step_needed_nb(state, False, False, stops, p)  # a step is due even when quiet
    units = 0.0
    cash = p.cash
    records = np.empty(MAX_CLOSES_PER_BAR, dtype=trade_dt)
    eq = np.empty(CHUNK + 1)  # eq[0]: the equity before the buffered bars
    eq[0] = p.cash
    bar = np.empty(CHUNK, dtype=np.int64)
    r = np.empty(CHUNK)
    init_acc_nb(acc, p.cash)
    r0 = rows[0]
    r1 = rows[1]
    f0 = fpar[0]
    f1 = fpar[1]
    u0 = v0 = c0 = s0 = s2 = np.nan
    s1 = 1.0  # the MACD signal EMA's starting weight (the other rules write s1 first)
    exposed = 0
    m = 0  # bars buffered in eq / bar
    zeros = 0  # bars since the last fold whose equity did not move
    for b in range(block_start.shape[0] - 1):
        for i in range(block_start[b], block_start[b + 1]):
            u1 = ind[r0, i]
            v1 = ind[r1, i]
            c1 = close[i]
            le, lx, se, sx, s0, s1, s2 = bar_signals_nb(
                kind, i, u1, v1, u0, v0, c1, c0, f0, f1, s0, s1, s2
            )
            u0 = u1
            v0 = v1
            c0 = c1
            last = i == n - 1
            if le or lx or se or sx or last or busy:
                bar_step_nb(
                    state, records, i, open_[i], high[i], low[i], c1,
                    le, lx, se, sx, atr[i - 1] if i > 0 else np.nan, atr[i], last, p,
                )  # fmt: skip
                drain_trades_nb(acc, state, records, days)
                # only a step changes the state: mirror what the next bars read
                busy = bar_step_needed_nb(state, False, False, stops, p)
                units = state[ST_UNITS]
                cash = state[ST_CASH]
            e = cash + units * c1
            if units != 0.0:
                exposed += 1
            if e == eq[m] and e > 0.0:
                zeros += 1  # its return is exactly 0: counted, not buffered
                continue
            eq[m + 1] = e
            bar[m] = i
            m += 1
            if m == CHUNK:
                fold_into_block_nb(acc, eq, bar, r, m, zeros, days, blocks, b)
                m = 0
                zeros = 0
        fold_into_block_nb(acc, eq, bar, r, m, zeros, days, blocks, b)
        m = 0
        zeros = 0
    finish_nb(acc, state, exposed, days)


@njit(cache=True)
def with_risk_nb(p: KernelParams, r: np.ndarray) -> KernelParams:
    """``p`` with one combination's setting axes ``r`` (``tradesweep.sweep.axes.
    SETTING_AXES`` order: stop_loss, stop_loss_atr, take_profit, take_profit_atr,
    trailing_stop, trailing_stop_atr, size, max_drawdown; NaN: off)."""
    return KernelParams(
        p.cash, p.fees, p.fixed_fee, p.slippage, p.fill, p.direction, r[6], p.size_type,
        p.fractional, r[0], r[1], r[2], r[3], r[4], r[5], r[7], p.close_at_end,
    )  # fmt: skip


@njit(parallel=True, cache=True)
def sweep_nb(
    kind: int,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    days: np.ndarray,
    ind: np.ndarray,
    rows: np.ndarray,
    fpar: np.ndarray,
    risk: np.ndarray,
    order: np.ndarray,
    block_start: np.ndarray,
    p: KernelParams,
    acc: np.ndarray,
    block_stats: np.ndarray,
) -> None:
    """Simulate the combinations ``order[:]`` (positions into ``rows``/``fpar``/``risk``/
    ``acc``), in parallel over combinations. ``ind`` is the indicator cache (settings x bars);
    combination ``c`` reads rows ``rows[c]``, floats ``fpar[c]`` and runs with ``p`` with its
    own risk and sizing settings ``risk[c]`` (:func:`with_risk_nb`). Writes ``acc[c]`` and
    ``block_stats[:, :, c]`` (``(3, n_blocks, n_combinations)``)."""
    for j in prange(order.shape[0]):
        c = order[j]
        blocks = np.zeros((N_BLOCK_ROWS, block_start.shape[0] - 1))
        simulate_combination_nb(
            kind, open_, high, low, close, atr, days, ind, rows[c], fpar[c],
            block_start, with_risk_nb(p, risk[c]), acc[c], blocks,
        )  # fmt: skip
        block_stats[0, :, c] = blocks[0] + blocks[1]
        block_stats[1, :, c] = blocks[2] + blocks[3]
        block_stats[2, :, c] = blocks[4]


# --- indicator caches: one row per distinct setting, filled in parallel --------------------

IND_SMA = 0  # sma_nb(close, w)
IND_EMA = 1  # ema_nb(close, w)
IND_EMA_FROM_SPAN = 2  # ema_nb(close, w) masked before bar w - 1 (EmaCrossover)
IND_RSI = 3  # rsi_nb(close, w)
IND_ROLLING_STD = 4  # the std of bollinger_nb(close, w, k): (upper - middle) / k
IND_EMA_TALIB = 5  # ema_talib_nb(close, w) (EmaCrossover, talib convention)
IND_ROLLING_POP_STD = 6  # the std of bollinger_talib_nb(close, w, k) (talib convention)


@njit(cache=True)
def rolling_std_nb(
    close: np.ndarray, window: int, middle: np.ndarray, out: np.ndarray, ddof: int
) -> None:
    """The band width ``sd`` of ``bollinger_nb`` (``ddof`` 1; ``upper = middle + num_std *
    sd``) or of ``bollinger_talib_nb`` (``ddof`` 0): the same ``window_std_ddof`` call on the
    same bars as their ``bands_nb``, NaN where the kernel leaves the bands NaN."""
    out[:] = np.nan
    for t in range(window - 1, close.shape[0]):
        m = middle[t]
        if m == m:
            out[t] = window_std_ddof(close, t - window + 1, t + 1, m, ddof)


@njit(parallel=True, cache=True)
def indicator_rows_nb(close: np.ndarray, kinds: np.ndarray, windows: np.ndarray, out: np.ndarray):
    """``out[k]`` = indicator ``kinds[k]`` (an ``IND_*``) of ``close`` over ``windows[k]`` bars."""
    for k in prange(kinds.shape[0]):
        w = windows[k]
        kind = kinds[k]
        if kind == IND_SMA:
            out[k] = sma_nb(close, w)
        elif kind == IND_RSI:
            out[k] = rsi_nb(close, w)
        elif kind == IND_ROLLING_STD:
            rolling_std_nb(close, w, sma_nb(close, w), out[k], 1)
        elif kind == IND_ROLLING_POP_STD:
            rolling_std_nb(close, w, sma_nb(close, w), out[k], 0)
        elif kind == IND_EMA_TALIB:
            out[k] = ema_talib_nb(close, w)
        else:
            out[k] = ema_nb(close, w)
            if kind == IND_EMA_FROM_SPAN:
                out[k, : max(w - 1, 0)] = np.nan
