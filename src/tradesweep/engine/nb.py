"""The simulator kernel: signals -> orders -> fills -> positions -> equity and trade records.

Numba ``@njit(cache=True)`` functions on float64 price arrays, four bool signal arrays, an ATR
array and a :class:`KernelParams` tuple of scalar settings (enums as small ints). The kernel is
cut into small pieces (signal resolution, fill price, order sizing, stop levels and checks,
opening and closing with trade recording, the drawdown guard), one bar of them is
:func:`bar_step_nb`, and :func:`simulate_nb` runs it over the bars. The sweep's fused kernels
(:mod:`tradesweep.sweep.fused_nb`) run the same :func:`bar_step_nb`. The pieces are inlined
into their callers (``inline="always"``): a quiet bar then costs a few nanoseconds instead of
a chain of calls.

Its pandas-level equivalent is the readable loop in :mod:`tradesweep.engine.reference`; the
conventions both follow are written in ``docs/engine.md``.

The running account lives in one small float64 ``state`` array indexed by the ``ST_*``
constants, so the pieces can update it in place without allocating.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from tradesweep.engine.enums import Direction, ExitReason, FillMode, SizeType, trade_dt

ST_CASH = 0
ST_UNITS = 1  # signed: > 0 long, < 0 short, 0 flat
ST_ENTRY_IDX = 2
ST_ENTRY_PRICE = 3  # entry fill price, slippage included
ST_ENTRY_FEE = 4
ST_STOP_LOSS = 5  # price level, NaN when none
ST_TAKE_PROFIT = 6  # price level, NaN when none
ST_BEST = 7  # best price since entry (highest high long, lowest low short)
ST_TRAIL_ABS = 8  # ATR trailing distance in price, NaN when none
ST_PEAK = 9  # running peak of the mark-to-market equity at bar closes
ST_HALTED = 10  # 1.0 once the drawdown guard fired
ST_N_TRADES = 11
ST_SAME_BAR = 12  # bars where the stop and the target were both touched
ST_TOTAL_FEES = 13
ST_PENDING_CLOSE = 14  # 1.0 when the previous close decided to close at this open
ST_PENDING_SIDE = 15  # side to open at this open (1, -1) or 0
N_STATE = 16

NO_EXIT = -1


class KernelParams(NamedTuple):
    """Scalar settings as the kernel sees them; NaN switches an optional feature off."""

    cash: float
    fees: float
    fixed_fee: float
    slippage: float
    fill: int  # a FillMode value
    direction: int  # a Direction value
    size: float
    size_type: int  # a SizeType value
    fractional: bool
    stop_loss: float
    stop_loss_atr: float
    take_profit: float
    take_profit_atr: float
    trailing_stop: float
    trailing_stop_atr: float
    max_drawdown: float
    close_at_end: bool


@njit(cache=True, inline="always")
def resolve_signals_nb(
    side: float, le: bool, lx: bool, se: bool, sx: bool, direction: int
) -> tuple[bool, int]:
    """What one bar's signals do to a position of ``side`` (1 long, -1 short, 0 flat).

    Returns ``(close_now, open_side)``. Signals of a side the direction excludes are dropped;
    an entry and an exit of the same side on one bar cancel; a long and a short entry on one
    bar cancel (vectorbt's ``upon_*_conflict="ignore"``). An opposite entry while in a position
    reverses it (long_short only).
    """
    if direction == Direction.long_only:
        se = False
        sx = False
    elif direction == Direction.short_only:
        le = False
        lx = False
    if le and lx:
        le = False
        lx = False
    if se and sx:
        se = False
        sx = False
    if le and se:
        le = False
        se = False
    if side > 0:
        if se:
            return True, -1
        return lx, 0
    if side < 0:
        if le:
            return True, 1
        return sx, 0
    if le:
        return False, 1
    if se:
        return False, -1
    return False, 0


@njit(cache=True, inline="always")
def fill_price_nb(price: float, is_buy: bool, slippage: float) -> float:
    """Slippage moves the fill against the trader: up for a buy, down for a sell."""
    if is_buy:
        return price * (1.0 + slippage)
    return price * (1.0 - slippage)


@njit(cache=True, inline="always")
def order_units_nb(equity: float, fill: float, p: KernelParams) -> float:
    """Units an entry at ``fill`` trades (long or short alike); 0.0 when it cannot trade.

    ``units = (budget - fixed_fee) / (fill * (1 + fees))`` with budget ``size * equity``
    (percent) or ``min(size, equity)`` (cash); fixed units are capped at what the equity
    pays for. Whole units are floored.
    """
    cost_per_unit = fill * (1.0 + p.fees)
    if p.size_type == SizeType.percent:
        units = (p.size * equity - p.fixed_fee) / cost_per_unit
    elif p.size_type == SizeType.cash:
        units = (min(p.size, equity) - p.fixed_fee) / cost_per_unit
    else:
        units = min(p.size, (equity - p.fixed_fee) / cost_per_unit)
    if not p.fractional:
        units = np.floor(units)
    if not units > 0.0:
        return 0.0
    return units


@njit(cache=True, inline="always")
def stop_levels_nb(side: float, entry: float, atr_at_signal: float, p: KernelParams):
    """Price levels of a new position: ``(stop_loss, take_profit, trailing ATR distance)``.

    Fractions apply to the entry fill price, ATR multiples to the ATR of the signal bar; a
    level is NaN when switched off (or when the ATR is NaN, in its warm-up).
    """
    stop = np.nan
    if not np.isnan(p.stop_loss):
        stop = entry * (1.0 - side * p.stop_loss)
    elif not np.isnan(p.stop_loss_atr):
        stop = entry - side * p.stop_loss_atr * atr_at_signal
    target = np.nan
    if not np.isnan(p.take_profit):
        target = entry * (1.0 + side * p.take_profit)
    elif not np.isnan(p.take_profit_atr):
        target = entry + side * p.take_profit_atr * atr_at_signal
    trail_abs = np.nan
    if not np.isnan(p.trailing_stop_atr):
        trail_abs = p.trailing_stop_atr * atr_at_signal
    return stop, target, trail_abs


@njit(cache=True, inline="always")
def trailing_level_nb(side: float, best: float, trail_abs: float, p: KernelParams) -> float:
    """The trailing stop level from the best price since entry; NaN when none."""
    if not np.isnan(p.trailing_stop):
        return best * (1.0 - side * p.trailing_stop)
    return best - side * trail_abs


@njit(cache=True, inline="always")
def check_stops_nb(
    side: float, o: float, h: float, lo: float, stop: float, trail: float, target: float
) -> tuple[int, float, bool]:
    """Which exit one bar triggers: ``(exit_reason or NO_EXIT, price before slippage,
    stop_and_target_same_bar)``.

    The protective level is the tighter of stop loss and trailing stop (a tie counts as stop
    loss). A bar that opens beyond a level fills at the open; otherwise a touched level fills
    at the level. When the bar touches both the protective level and the target, the stop is
    assumed to come first.
    """
    protect = stop
    protect_reason = ExitReason.stop_loss
    if not np.isnan(trail) and (np.isnan(protect) or side * trail > side * protect):
        protect = trail
        protect_reason = ExitReason.trailing_stop
    has_protect = not np.isnan(protect)
    has_target = not np.isnan(target)
    if has_protect and side * o <= side * protect:
        return protect_reason, o, False
    if has_target and side * o >= side * target:
        return ExitReason.take_profit, o, False
    if side > 0:
        hit_protect = has_protect and lo <= protect
        hit_target = has_target and h >= target
    else:
        hit_protect = has_protect and h >= protect
        hit_target = has_target and lo <= target
    if hit_protect:
        return protect_reason, protect, hit_target
    if hit_target:
        return ExitReason.take_profit, target, False
    return NO_EXIT, np.nan, False


@njit(cache=True, inline="always")
def open_position_nb(
    state: np.ndarray, i: int, side: int, price: float, atr_at_signal: float, p: KernelParams
) -> None:
    """Enter ``side`` at bar ``i`` from flat at ``price`` (before slippage)."""
    fill = fill_price_nb(price, side > 0, p.slippage)
    units = order_units_nb(state[ST_CASH], fill, p)  # flat, so equity == cash
    if units == 0.0:
        return
    notional = units * fill
    fee = notional * p.fees + p.fixed_fee
    if side > 0:
        state[ST_CASH] = state[ST_CASH] - notional - fee
    else:
        state[ST_CASH] = state[ST_CASH] + notional - fee
    state[ST_UNITS] = side * units
    state[ST_ENTRY_IDX] = i
    state[ST_ENTRY_PRICE] = fill
    state[ST_ENTRY_FEE] = fee
    stop, target, trail_abs = stop_levels_nb(float(side), fill, atr_at_signal, p)
    state[ST_STOP_LOSS] = stop
    state[ST_TAKE_PROFIT] = target
    state[ST_TRAIL_ABS] = trail_abs
    state[ST_BEST] = fill
    state[ST_TOTAL_FEES] += fee


@njit(cache=True, inline="always")
def close_position_nb(
    state: np.ndarray, records: np.ndarray, i: int, price: float, reason: int, p: KernelParams
) -> None:
    """Close the whole position at bar ``i`` at ``price`` (before slippage); record the trade."""
    side = 1 if state[ST_UNITS] > 0 else -1
    units = abs(state[ST_UNITS])
    fill = fill_price_nb(price, side < 0, p.slippage)
    notional = units * fill
    fee = notional * p.fees + p.fixed_fee
    if side > 0:
        state[ST_CASH] = state[ST_CASH] + notional - fee
    else:
        state[ST_CASH] = state[ST_CASH] - notional - fee
    entry = state[ST_ENTRY_PRICE]
    entry_fee = state[ST_ENTRY_FEE]
    pnl = side * units * (fill - entry) - entry_fee - fee
    k = int(state[ST_N_TRADES])
    entry_idx = int(state[ST_ENTRY_IDX])
    records[k]["entry_idx"] = entry_idx
    records[k]["exit_idx"] = i
    records[k]["side"] = side
    records[k]["units"] = units
    records[k]["entry_price"] = entry
    records[k]["exit_price"] = fill
    records[k]["pnl"] = pnl
    records[k]["pnl_pct"] = pnl / (units * entry + entry_fee) * 100.0
    records[k]["fees"] = entry_fee + fee
    records[k]["bars_held"] = i - entry_idx
    records[k]["exit_reason"] = reason
    state[ST_N_TRADES] = k + 1
    state[ST_UNITS] = 0.0
    state[ST_TOTAL_FEES] += fee


@njit(cache=True, inline="always")
def execute_nb(
    state: np.ndarray,
    records: np.ndarray,
    i: int,
    price: float,
    close_now: bool,
    open_side: int,
    atr_at_signal: float,
    p: KernelParams,
) -> None:
    """Carry out a resolved signal at bar ``i``: close, then open (a reversal does both)."""
    if close_now and state[ST_UNITS] != 0.0:
        close_position_nb(state, records, i, price, ExitReason.signal, p)
    if open_side != 0 and state[ST_UNITS] == 0.0:
        open_position_nb(state, i, open_side, price, atr_at_signal, p)


@njit(cache=True, inline="always")
def bar_stops_nb(
    state: np.ndarray, records: np.ndarray, i: int, o: float, h: float, lo: float, p: KernelParams
) -> None:
    """Check the open position's stops against bar ``i``, then move the best price since
    entry (the trailing stop sees this bar's extreme from the next bar on)."""
    side = 1.0 if state[ST_UNITS] > 0 else -1.0
    trail = np.nan
    if not np.isnan(p.trailing_stop) or not np.isnan(state[ST_TRAIL_ABS]):
        trail = trailing_level_nb(side, state[ST_BEST], state[ST_TRAIL_ABS], p)
    reason, price, same_bar = check_stops_nb(
        side, o, h, lo, state[ST_STOP_LOSS], trail, state[ST_TAKE_PROFIT]
    )
    if same_bar:
        state[ST_SAME_BAR] += 1.0
    if reason != NO_EXIT:
        close_position_nb(state, records, i, price, reason, p)
    elif side > 0:
        state[ST_BEST] = max(state[ST_BEST], h)
    else:
        state[ST_BEST] = min(state[ST_BEST], lo)


@njit(cache=True, inline="always")
def drawdown_guard_nb(
    state: np.ndarray, records: np.ndarray, i: int, c: float, p: KernelParams
) -> None:
    """At bar ``i``'s close: update the equity peak; once equity is ``max_drawdown`` below
    it, flatten at the close and halt trading for the rest of the run."""
    equity = state[ST_CASH] + state[ST_UNITS] * c
    if equity > state[ST_PEAK]:
        state[ST_PEAK] = equity
    if equity <= state[ST_PEAK] * (1.0 - p.max_drawdown):
        if state[ST_UNITS] != 0.0:
            close_position_nb(state, records, i, c, ExitReason.max_drawdown, p)
        state[ST_HALTED] = 1.0


@njit(cache=True)
def new_state_nb(p: KernelParams) -> np.ndarray:
    """A fresh account: all cash, flat, the equity peak at the cash."""
    state = np.zeros(N_STATE, dtype=np.float64)
    state[ST_CASH] = p.cash
    state[ST_PEAK] = p.cash
    return state


@njit(cache=True, inline="always")
def bar_step_nb(
    state: np.ndarray,
    records: np.ndarray,
    i: int,
    o: float,
    h: float,
    lo: float,
    c: float,
    le: bool,
    lx: bool,
    se: bool,
    sx: bool,
    atr_before: float,
    atr_now: float,
    last: bool,
    p: KernelParams,
) -> None:
    """Everything that happens on bar ``i`` (steps 1-5 of docs/engine.md), given the bar's
    prices, its four signals and the ATR of the bar before (``atr_before``, the signal bar of
    an order filling at this open) and of this bar. Closed trades go to
    ``records[state[ST_N_TRADES]]``.

    The order decided at the previous close fills at the open (``next_open``); stops are
    checked against the bar; at the close the drawdown guard runs, then the bar's signals
    are resolved and fill at this close (``close``) or wait for the next open. The sweep
    kernels call this same step, so a sweep simulates exactly what :func:`simulate_nb` does.
    """
    if state[ST_PENDING_CLOSE] != 0.0 or state[ST_PENDING_SIDE] != 0.0:
        execute_nb(
            state,
            records,
            i,
            o,
            state[ST_PENDING_CLOSE] != 0.0,
            int(state[ST_PENDING_SIDE]),
            atr_before,
            p,
        )
        state[ST_PENDING_CLOSE] = 0.0
        state[ST_PENDING_SIDE] = 0.0
    if state[ST_UNITS] != 0.0:
        bar_stops_nb(state, records, i, o, h, lo, p)
    if not np.isnan(p.max_drawdown) and state[ST_HALTED] == 0.0:
        drawdown_guard_nb(state, records, i, c, p)
    if state[ST_HALTED] == 0.0 and not (last and p.fill == FillMode.next_open):
        side = np.sign(state[ST_UNITS])
        close_now, open_side = resolve_signals_nb(side, le, lx, se, sx, p.direction)
        if last and p.close_at_end:
            open_side = 0
        if p.fill == FillMode.close:
            execute_nb(state, records, i, c, close_now, open_side, atr_now, p)
        else:
            state[ST_PENDING_CLOSE] = 1.0 if close_now else 0.0
            state[ST_PENDING_SIDE] = open_side
    if last and p.close_at_end and state[ST_UNITS] != 0.0:
        close_position_nb(state, records, i, c, ExitReason.end, p)


@njit(cache=True)
def uses_stops_nb(p: KernelParams) -> bool:
    """Whether any stop, target or trailing stop is set."""
    return not (
        np.isnan(p.stop_loss)
        and np.isnan(p.stop_loss_atr)
        and np.isnan(p.take_profit)
        and np.isnan(p.take_profit_atr)
        and np.isnan(p.trailing_stop)
        and np.isnan(p.trailing_stop_atr)
    )


@njit(cache=True, inline="always")
def bar_step_needed_nb(
    state: np.ndarray, signalled: bool, last: bool, uses_stops: bool, p: KernelParams
) -> bool:
    """False when :func:`bar_step_nb` would change nothing observable on this bar: no signal,
    no order waiting for the open, no stop to check (flat, or no stops set), no drawdown
    guard and not the last bar. (The step would still move the best price since entry, which
    only a trailing stop reads.) Loops that run many simulations skip such bars; with
    ``signalled=last=False`` it says whether a step is due on a quiet bar, which only a step
    can change."""
    if signalled or last or not np.isnan(p.max_drawdown):
        return True
    if state[ST_PENDING_CLOSE] != 0.0 or state[ST_PENDING_SIDE] != 0.0:
        return True
    return uses_stops and state[ST_UNITS] != 0.0


@njit(cache=True)
def simulate_nb(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    long_entry: np.ndarray,
    long_exit: np.ndarray,
    short_entry: np.ndarray,
    short_exit: np.ndarray,
    atr: np.ndarray,
    p: KernelParams,
):
    """Run one backtest. Returns ``(equity, position, trades, stop_and_target_same_bar,
    total_fees)``: equity marked to market at each close, signed units held after each bar,
    closed trades as ``trade_dt`` records. Each bar is one :func:`bar_step_nb`.
    """
    n = close.shape[0]
    equity = np.empty(n, dtype=np.float64)
    position = np.empty(n, dtype=np.float64)
    records = np.empty(n + 1, dtype=trade_dt)
    state = new_state_nb(p)
    atr_before = np.nan
    for i in range(n):
        bar_step_nb(
            state,
            records,
            i,
            open_[i],
            high[i],
            low[i],
            close[i],
            long_entry[i],
            long_exit[i],
            short_entry[i],
            short_exit[i],
            atr_before,
            atr[i],
            i == n - 1,
            p,
        )
        atr_before = atr[i]
        equity[i] = state[ST_CASH] + state[ST_UNITS] * close[i]
        position[i] = state[ST_UNITS]
    trades = records[: int(state[ST_N_TRADES])].copy()
    return equity, position, trades, int(state[ST_SAME_BAR]), state[ST_TOTAL_FEES]
