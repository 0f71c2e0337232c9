"""A slow, obvious pure-Python simulator with the engine's conventions (docs/engine.md).

It exists as a test oracle for the numba kernel in :mod:`tradesweep.engine.nb`: written
separately, in plain Python floats and objects, one bar at a time, so that a property test
can hold the two against each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradesweep.engine.enums import ExitReason, Side, trade_dt
from tradesweep.engine.inputs import atr_input, engine_inputs
from tradesweep.engine.result import BacktestResult
from tradesweep.engine.settings import EngineSettings
from tradesweep.strategies.base import Signals


def wilder_atr(high: list[float], low: list[float], close: list[float], period: int) -> list:
    """Textbook Wilder ATR: seed with the mean of the first ``period`` true ranges."""
    out = [math.nan] * len(close)
    ranges = []
    for t in range(len(close)):
        if t == 0:
            true_range = high[t] - low[t]
        else:
            prev = close[t - 1]
            true_range = max(high[t] - low[t], abs(high[t] - prev), abs(low[t] - prev))
        ranges.append(true_range)
        if t == period - 1:
            total = 0.0
            for r in ranges:
                total += r
            out[t] = total / period
        elif t >= period:
            out[t] = (out[t - 1] * (period - 1) + true_range) / period
    return out


@dataclass
class _Position:
    side: int  # +1 long, -1 short
    units: float
    entry_idx: int
    entry_price: float
    entry_fee: float
    stop_loss: float | None
    take_profit: float | None
    trail_distance: float | None  # ATR trailing stop distance in price
    best: float  # highest high (long) / lowest low (short) since entry


class _Simulation:
    def __init__(self, bars: dict, signals: dict, atr: list, settings: EngineSettings):
        self.bars = bars
        self.signals = signals
        self.atr = atr
        self.s = settings
        self.cash = settings.cash
        self.position: _Position | None = None
        self.trades: list[tuple] = []
        self.fees_paid = 0.0
        self.same_bar = 0
        self.peak = settings.cash
        self.halted = False

    # --- orders -------------------------------------------------------------------------

    def slipped(self, price: float, buying: bool) -> float:
        return price * (1.0 + self.s.slippage) if buying else price * (1.0 - self.s.slippage)

    def units_for(self, fill: float) -> float:
        s = self.s
        money = self.cash  # only ever called while flat, where equity is the cash
        per_unit = fill * (1.0 + s.fees)
        if s.size_type == "percent":
            units = (s.size * money - s.fixed_fee) / per_unit
        elif s.size_type == "cash":
            units = (min(s.size, money) - s.fixed_fee) / per_unit
        else:
            units = min(s.size, (money - s.fixed_fee) / per_unit)
        if not s.fractional:
            units = math.floor(units)
        return units if units > 0 else 0.0

    def enter(self, i: int, side: int, price: float, atr_value: float) -> None:
        s = self.s
        fill = self.slipped(price, buying=side == Side.long)
        units = self.units_for(fill)
        if units == 0.0:
            return
        fee = units * fill * s.fees + s.fixed_fee
        if side == Side.long:
            self.cash = self.cash - units * fill - fee
        else:
            self.cash = self.cash + units * fill - fee
        self.fees_paid += fee
        self.position = _Position(
            side=side,
            units=units,
            entry_idx=i,
            entry_price=fill,
            entry_fee=fee,
            stop_loss=self.level(fill, side, -1, s.stop_loss, s.stop_loss_atr, atr_value),
            take_profit=self.level(fill, side, +1, s.take_profit, s.take_profit_atr, atr_value),
            trail_distance=None
            if s.trailing_stop_atr is None or math.isnan(atr_value)
            else s.trailing_stop_atr * atr_value,
            best=fill,
        )

    @staticmethod
    def level(entry, side, sign, fraction, atr_multiple, atr_value) -> float | None:
        """A stop (sign -1: against the position) or target (+1) price level."""
        if fraction is not None:
            return entry * (1.0 + fraction) if side * sign > 0 else entry * (1.0 - fraction)
        if atr_multiple is None or math.isnan(atr_value):
            return None
        distance = atr_multiple * atr_value
        return entry + distance if side * sign > 0 else entry - distance

    def exit(self, i: int, price: float, reason: int) -> None:
        pos = self.position
        assert pos is not None
        fill = self.slipped(price, buying=pos.side == Side.short)
        fee = pos.units * fill * self.s.fees + self.s.fixed_fee
        if pos.side == Side.long:
            self.cash = self.cash + pos.units * fill - fee
            gross = pos.units * (fill - pos.entry_price)
        else:
            self.cash = self.cash - pos.units * fill - fee
            gross = pos.units * (pos.entry_price - fill)
        pnl = gross - pos.entry_fee - fee
        cost = pos.units * pos.entry_price + pos.entry_fee
        self.trades.append(
            (
                pos.entry_idx,
                i,
                pos.side,
                pos.units,
                pos.entry_price,
                fill,
                pnl,
                pnl / cost * 100.0,
                pos.entry_fee + fee,
                i - pos.entry_idx,
                reason,
            )
        )
        self.fees_paid += fee
        self.position = None

    # --- per bar ------------------------------------------------------------------------

    def decide(self, i: int) -> tuple[bool, int]:
        """(close the position?, side to open or 0) from bar i's signals."""
        le, lx, se, sx = (self.signals[k][i] for k in Signals._fields)
        if self.s.direction == "long_only":
            se = sx = False
        if self.s.direction == "short_only":
            le = lx = False
        if le and lx:  # an entry and an exit of one side on one bar cancel
            le = lx = False
        if se and sx:
            se = sx = False
        if le and se:  # so do a long and a short entry
            le = se = False
        pos = self.position
        if pos is None:
            return False, Side.long if le else Side.short if se else 0
        if pos.side == Side.long:
            return (True, Side.short) if se else (lx, 0)
        return (True, Side.long) if le else (sx, 0)

    def act(self, i: int, price: float, close_it: bool, open_side: int, signal_bar: int):
        if close_it and self.position is not None:
            self.exit(i, price, ExitReason.signal)
        if open_side and self.position is None:
            self.enter(i, open_side, price, self.atr[signal_bar])

    def stops(self, i: int) -> None:
        pos = self.position
        assert pos is not None
        o, h, lo = self.bars["open"][i], self.bars["high"][i], self.bars["low"][i]
        s = self.s
        trail = None
        if s.trailing_stop is not None:
            trail = pos.best * (1.0 - s.trailing_stop if pos.side > 0 else 1.0 + s.trailing_stop)
        elif pos.trail_distance is not None:
            trail = pos.best - pos.trail_distance * pos.side
        # the tighter of the stop loss and the trailing stop protects the position
        guard, guard_reason = pos.stop_loss, ExitReason.stop_loss
        if trail is not None and (guard is None or (trail - guard) * pos.side > 0):
            guard, guard_reason = trail, ExitReason.trailing_stop
        target = pos.take_profit
        if pos.side == Side.long:
            gap_guard = guard is not None and o <= guard
            gap_target = target is not None and o >= target
            touch_guard = guard is not None and lo <= guard
            touch_target = target is not None and h >= target
        else:
            gap_guard = guard is not None and o >= guard
            gap_target = target is not None and o <= target
            touch_guard = guard is not None and h >= guard
            touch_target = target is not None and lo <= target
        if gap_guard:
            self.exit(i, o, guard_reason)
        elif gap_target:
            self.exit(i, o, ExitReason.take_profit)
        elif guard is not None and touch_guard:
            if touch_target:  # both inside one bar: assume the worse came first
                self.same_bar += 1
            self.exit(i, guard, guard_reason)
        elif target is not None and touch_target:
            self.exit(i, target, ExitReason.take_profit)
        else:
            pos.best = max(pos.best, h) if pos.side == Side.long else min(pos.best, lo)

    def value_at(self, price: float) -> float:
        pos = self.position
        return self.cash if pos is None else self.cash + pos.side * pos.units * price

    def run(self) -> tuple[list, list]:
        n = len(self.bars["close"])
        s = self.s
        equity, held = [], []
        waiting: tuple[bool, int, int] | None = None  # an order for the next open
        for i in range(n):
            c = self.bars["close"][i]
            if waiting is not None:
                self.act(i, self.bars["open"][i], *waiting)
                waiting = None
            if self.position is not None:
                self.stops(i)
            if s.max_drawdown is not None and not self.halted:
                value = self.value_at(c)
                self.peak = max(self.peak, value)
                if value <= self.peak * (1.0 - s.max_drawdown):
                    if self.position is not None:
                        self.exit(i, c, ExitReason.max_drawdown)
                    self.halted = True
            is_last = i == n - 1
            if not self.halted:
                close_it, open_side = self.decide(i)
                if is_last and s.close_at_end:
                    open_side = 0
                if s.fill == "close":
                    self.act(i, c, close_it, open_side, i)
                elif not is_last:
                    waiting = (close_it, open_side, i)
            if is_last and s.close_at_end and self.position is not None:
                self.exit(i, c, ExitReason.end)
            equity.append(self.value_at(c))
            pos = self.position
            held.append(0.0 if pos is None else pos.side * pos.units)
        return equity, held


def simulate_reference(
    bars: pd.DataFrame,
    signals: Signals,
    settings: EngineSettings | None = None,
    *,
    atr: np.ndarray | None = None,
) -> BacktestResult:
    """Same contract as :func:`tradesweep.engine.run_backtest`, slowly, for tests."""
    settings = settings or EngineSettings()
    x = engine_inputs(bars, signals)
    n = len(x.index)
    columns = {name: [float(v) for v in getattr(x, name)] for name in ("open", "high", "low")}
    columns["close"] = [float(v) for v in x.close]
    flags = {name: [bool(v) for v in getattr(x, name)] for name in Signals._fields}
    if atr is not None:
        atr_list = [float(v) for v in atr_input(atr, n)]
    elif settings.uses_atr:
        atr_list = wilder_atr(
            columns["high"], columns["low"], columns["close"], settings.atr_period
        )
    else:
        atr_list = [math.nan] * n
    sim = _Simulation(columns, flags, atr_list, settings)
    equity, held = sim.run()
    return BacktestResult(
        index=x.index,
        equity=np.array(equity, dtype=np.float64),
        position=np.array(held, dtype=np.float64),
        trades=np.array(sim.trades, dtype=trade_dt),
        stop_and_target_same_bar=sim.same_bar,
        total_fees=sim.fees_paid,
        settings=settings,
    )
