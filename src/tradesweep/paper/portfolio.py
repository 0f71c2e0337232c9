"""The portfolio tracker: cash, positions, P&L and a snapshot per candle, from fills alone.

It keeps its own books from the executor's fills (it never reads the executor's state), with
the engine's arithmetic: a buy of ``units`` at ``price`` with ``fee`` takes
``units * price + fee`` from the cash, a sell adds ``units * price - fee``, and equity is the
cash plus the signed units marked at the candle's close. So a replayed session's snapshots
equal the backtest's equity curve.

A position is opened whole and closed whole (the engine never scales in or out), so its
average price is its entry fill price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tradesweep.paper.executor import Fill


@dataclass
class Position:
    """One leg's open position: signed ``units`` and the average entry price."""

    leg: str
    units: float = 0.0
    average_price: float = 0.0
    entry_fee: float = 0.0
    realized_pnl: float = 0.0

    def unrealized_pnl(self, price: float) -> float:
        """The open position's gain at ``price``, before exit fees (entry fee included)."""
        if self.units == 0.0:
            return 0.0
        return self.units * (price - self.average_price) - self.entry_fee


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The account at one candle's close."""

    time: pd.Timestamp
    cash: float
    equity: float
    peak: float
    drawdown: float  # (equity - peak) / peak, <= 0
    realized_pnl: float
    unrealized_pnl: float
    positions: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": int(self.time.value // 1_000_000),
            "cash": self.cash,
            "equity": self.equity,
            "peak": self.peak,
            "drawdown": self.drawdown,
            "realized_pnl": self.realized_pnl,
            "unrealized_pnl": self.unrealized_pnl,
            "positions": dict(self.positions),
        }


class Portfolio:
    """One account of ``cash`` shared by the session's legs."""

    def __init__(self, cash: float) -> None:
        self.cash = float(cash)
        self.peak = float(cash)
        self.positions: dict[str, Position] = {}
        self.prices: dict[str, float] = {}
        self.snapshots: list[Snapshot] = []

    def position(self, leg: str) -> Position:
        return self.positions.setdefault(leg, Position(leg))

    @property
    def realized_pnl(self) -> float:
        return sum(p.realized_pnl for p in self.positions.values())

    def apply(self, fill: Fill) -> None:
        """Book one fill (in the order the executor made them)."""
        pos = self.position(fill.leg)
        notional = fill.units * fill.price
        if fill.side > 0:
            self.cash = self.cash - notional - fill.fee
        else:
            self.cash = self.cash + notional - fill.fee
        if fill.opens:
            pos.units = fill.side * fill.units
            pos.average_price = fill.price
            pos.entry_fee = fill.fee
        else:
            pos.realized_pnl += fill.pnl if fill.pnl is not None else 0.0
            pos.units, pos.average_price, pos.entry_fee = 0.0, 0.0, 0.0

    def mark(self, leg: str, time: pd.Timestamp, close: float) -> Snapshot:
        """Mark ``leg`` at ``close`` and snapshot the account at ``time``."""
        self.prices[leg] = close
        equity = self.cash
        unrealized = 0.0
        for name, pos in self.positions.items():
            price = self.prices.get(name, pos.average_price)
            equity = equity + pos.units * price
            unrealized += pos.unrealized_pnl(price)
        self.peak = max(self.peak, equity)
        snap = Snapshot(
            time=time,
            cash=self.cash,
            equity=equity,
            peak=self.peak,
            drawdown=(equity - self.peak) / self.peak if self.peak > 0 else 0.0,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=unrealized,
            positions={name: pos.units for name, pos in self.positions.items()},
        )
        self.snapshots.append(snap)
        return snap
