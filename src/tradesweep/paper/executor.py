"""The paper executor: a leg's signals become orders and fills exactly as in a backtest.

Exactly, because it does not re-derive the fill rules: each candle is one call of the engine's
own :func:`~tradesweep.engine.nb.bar_step_nb` on the leg's ``ST_*`` state array, the step
:func:`~tradesweep.engine.nb.simulate_nb` runs over a backtest's bars. So ``fill="next_open"``
fills at the next candle's open, ``fill="close"`` at the signal candle's close, with the same
fees, fixed fee, slippage, sizing, stops / take-profit / trailing stops inside the candle and
drawdown guard (docs/engine.md). The executor reads what the step did back out of the state
and the trade records as orders and fills.

Idempotence: an order's id is derived from (session, leg, signal candle time) (a stop, target
or end-of-session exit adds its reason), and a candle at or before the last one executed is a
redelivery that changes nothing and yields nothing, so a redelivered signal never makes a
second order.

Live placement on an exchange is out of scope; :class:`Executor` is the interface it would
implement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tradesweep.engine import EXIT_REASON_NAMES, EngineSettings, trade_dt
from tradesweep.engine.backtest import kernel_params
from tradesweep.engine.nb import (
    ST_ENTRY_IDX,
    ST_ENTRY_PRICE,
    ST_N_TRADES,
    ST_PENDING_CLOSE,
    ST_PENDING_SIDE,
    ST_UNITS,
    bar_step_nb,
    new_state_nb,
)
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.indicators.streaming import StreamingATR
from tradesweep.paper.candles import Candle
from tradesweep.paper.engine import Signal

_RECORDS_PER_CANDLE = 8  # at most three trades close on one candle (reversal, stop, end)


def _ms(time: pd.Timestamp) -> int:
    return int(time.value // 1_000_000)


@dataclass(frozen=True, slots=True)
class Order:
    """An order decided on the close of the candle at ``time``: ``action`` is ``close``,
    ``open_long``, ``open_short``, ``reverse_long``, ``reverse_short`` (signal orders) or an
    exit reason (``stop_loss``, ``take_profit``, ``trailing_stop``, ``max_drawdown``,
    ``end``)."""

    order_id: str
    session: str
    leg: str
    time: pd.Timestamp
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "session": self.session,
            "leg": self.leg,
            "time": _ms(self.time),
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: ``side`` +1 buys, -1 sells ``units`` at ``price`` (slippage included)
    paying ``fee``. ``opens`` says whether it opens a position (else it closes one, with the
    round trip's ``pnl``, all fees included, and its exit ``reason``)."""

    order_id: str
    leg: str
    time: pd.Timestamp
    side: int
    units: float
    price: float
    fee: float
    opens: bool
    reason: str | None = None
    pnl: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "leg": self.leg,
            "time": _ms(self.time),
            "side": self.side,
            "units": self.units,
            "price": self.price,
            "fee": self.fee,
            "opens": self.opens,
            "reason": self.reason,
            "pnl": self.pnl,
        }


@dataclass(frozen=True, slots=True)
class Trade:
    """A closed round trip, as the backtest's ``trades_frame`` rows."""

    leg: str
    entry_time: pd.Timestamp
    exit_time: pd.Timestamp
    side: int
    units: float
    entry_price: float
    exit_price: float
    pnl: float
    fees: float
    exit_reason: str


@dataclass
class Execution:
    """What one candle did: new orders, fills in execution order, closed trades."""

    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)


class Executor(Protocol):
    """Turns one leg's candle and signal into orders and fills (paper here; an exchange
    executor would place the orders instead)."""

    def execute(self, candle: Candle, signal: Signal, *, last: bool = False) -> Execution: ...


class PaperExecutor:
    """Paper fills for one leg of ``session`` with the engine's ``settings``.

    ``last=True`` marks the session's final candle, the backtest's last bar (``close_at_end``
    then flattens the position at its close, and ``next_open`` places no order on it).
    """

    def __init__(
        self,
        session: str,
        leg: str,
        settings: EngineSettings,
        *,
        indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
    ) -> None:
        self.session, self.leg, self.settings = session, leg, settings
        self.params = kernel_params(settings)
        self.state = new_state_nb(self.params)
        self.records = np.zeros(_RECORDS_PER_CANDLE, dtype=trade_dt)
        self.atr = (
            StreamingATR(settings.atr_period, convention=indicator_convention)
            if settings.uses_atr
            else None
        )
        self.atr_before = math.nan
        self.times: list[pd.Timestamp] = []  # candle time by bar index
        self.pending: Order | None = None  # decided at a close, fills at the next open
        self.order_ids: set[str] = set()

    @property
    def units(self) -> float:
        """Signed units held (> 0 long, < 0 short)."""
        return float(self.state[ST_UNITS])

    def order_id(self, time: pd.Timestamp, reason: str | None = None) -> str:
        base = f"{self.session}:{self.leg}:{_ms(time)}"
        return base if reason is None else f"{base}:{reason}"

    def execute(self, candle: Candle, signal: Signal, *, last: bool = False) -> Execution:
        done = Execution()
        if self.times and candle.time <= self.times[-1]:
            return done  # a redelivery: this candle was executed already
        if signal.time != candle.time:
            raise ValueError(f"signal at {signal.time} does not belong to candle {candle.time}")
        i = len(self.times)
        self.times.append(candle.time)
        atr_now = self.atr.update(candle.high, candle.low, candle.close) if self.atr else math.nan
        before_units = self.units
        waiting = self.pending
        self.pending = None
        bar_step_nb(
            self.state,
            self.records,
            i,
            candle.open,
            candle.high,
            candle.low,
            candle.close,
            signal.long_entry,
            signal.long_exit,
            signal.short_entry,
            signal.short_exit,
            self.atr_before,
            atr_now,
            last,
            self.params,
        )
        self.atr_before = atr_now
        self._read_fills(i, candle, signal, waiting, before_units, done)
        self._read_pending(candle, done)
        return done

    # -- reading the step back ---------------------------------------------------------------

    def _read_fills(
        self,
        i: int,
        candle: Candle,
        signal: Signal,
        waiting: Order | None,
        before_units: float,
        done: Execution,
    ) -> None:
        signal_order = waiting
        if self.settings.fill == "close":
            signal_order = Order(
                self.order_id(candle.time), self.session, self.leg, candle.time, ""
            )
        used: dict[str, Order] = {}

        def order_for(reason: str) -> Order:
            if reason == "signal" and signal_order is not None:
                key = signal_order.order_id
                used.setdefault(key, signal_order)
                return signal_order
            order = Order(
                self.order_id(candle.time, reason), self.session, self.leg, candle.time, reason
            )
            used.setdefault(order.order_id, order)
            return order

        n = int(self.state[ST_N_TRADES])
        entry_reason = "signal"
        for rec in self.records[:n]:
            side, units = int(rec["side"]), float(rec["units"])
            if int(rec["entry_idx"]) == i:
                done.fills.append(
                    self._entry_fill(
                        order_for(entry_reason), candle, side, units, float(rec["entry_price"])
                    )
                )
            reason = EXIT_REASON_NAMES[int(rec["exit_reason"])]
            exit_price = float(rec["exit_price"])
            done.fills.append(
                Fill(
                    order_for(reason).order_id,
                    self.leg,
                    candle.time,
                    -side,
                    units,
                    exit_price,
                    units * exit_price * self.params.fees + self.params.fixed_fee,
                    False,
                    reason,
                    float(rec["pnl"]),
                )
            )
            done.trades.append(
                Trade(
                    self.leg,
                    self.times[int(rec["entry_idx"])],
                    candle.time,
                    side,
                    units,
                    float(rec["entry_price"]),
                    exit_price,
                    float(rec["pnl"]),
                    float(rec["fees"]),
                    reason,
                )
            )
        self.state[ST_N_TRADES] = 0.0
        units_now = self.units
        if units_now != 0.0 and int(self.state[ST_ENTRY_IDX]) == i:
            side = 1 if units_now > 0 else -1
            done.fills.append(
                self._entry_fill(
                    order_for("signal"),
                    candle,
                    side,
                    abs(units_now),
                    float(self.state[ST_ENTRY_PRICE]),
                )
            )
        for order in used.values():
            if order.order_id in self.order_ids:
                continue
            self.order_ids.add(order.order_id)
            if not order.action:
                order = Order(
                    order.order_id, order.session, order.leg, order.time, _action(done.fills)
                )
            done.orders.append(order)

    def _entry_fill(
        self, order: Order, candle: Candle, side: int, units: float, price: float
    ) -> Fill:
        fee = units * price * self.params.fees + self.params.fixed_fee
        return Fill(order.order_id, self.leg, candle.time, side, units, price, fee, True)

    def _read_pending(self, candle: Candle, done: Execution) -> None:
        close_it = self.state[ST_PENDING_CLOSE] != 0.0
        side = int(self.state[ST_PENDING_SIDE])
        if not close_it and side == 0:
            return
        units = self.units
        if close_it and units != 0.0 and side != 0:
            action = "reverse_long" if side > 0 else "reverse_short"
        elif side != 0:
            action = "open_long" if side > 0 else "open_short"
        elif units != 0.0:
            action = "close"
        else:
            return
        order = Order(self.order_id(candle.time), self.session, self.leg, candle.time, action)
        self.pending = order
        if order.order_id not in self.order_ids:
            self.order_ids.add(order.order_id)
            done.orders.append(order)


def _action(fills: list[Fill]) -> str:
    """The action of a ``fill="close"`` signal order, from what it filled."""
    opened = [f for f in fills if f.opens]
    closed = any(not f.opens and f.reason == "signal" for f in fills)
    if opened and closed:
        return "reverse_long" if opened[-1].side > 0 else "reverse_short"
    if opened:
        return "open_long" if opened[-1].side > 0 else "open_short"
    return "close"
