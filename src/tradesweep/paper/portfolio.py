"""The portfolio tracker: cash, positions, P&L and a snapshot per candle, from fills alone.

It keeps its own books from the executor's fills (it never reads the executor's state), with
the engine's arithmetic: a buy of ``units`` at ``price`` with ``fee`` takes
``units * price + fee`` from the cash, a sell adds ``units * price - fee``, and equity is the
cash plus the signed units marked at the candle's close. So a replayed session's snapshots
equal the backtest's equity curve.

A position is opened whole and closed whole (the engine never scales in or out), so its
average price is its entry fill price.

Several legs share one account: each leg also has its own books (``legs``: its starting cash,
the cash its fills moved, its equity, peak and drawdown), so a leg's snapshots equal the
backtest of that leg alone on its starting cash, and the account's cash is the sum of the
legs' cash plus any cash left unallocated.
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


@dataclass
class LegBooks:
    """One leg's share of the account: its cash, and the peak of its equity."""

    cash: float
    peak: float


class Portfolio:
    """One account of ``cash`` shared by the session's legs; ``legs`` maps each leg to the
    starting cash allotted to it (its own books; a leg not named starts its books at 0)."""

    def __init__(self, cash: float, legs: dict[str, float] | None = None) -> None:
        self.cash = float(cash)
        self.peak = float(cash)
        self.positions: dict[str, Position] = {}
        self.prices: dict[str, float] = {}
        self.snapshots: list[Snapshot] = []
        self.legs: dict[str, LegBooks] = {
            name: LegBooks(float(c), float(c)) for name, c in (legs or {}).items()
        }

    def books(self, leg: str) -> LegBooks:
        return self.legs.setdefault(leg, LegBooks(0.0, 0.0))

    def position(self, leg: str) -> Position:
        return self.positions.setdefault(leg, Position(leg))

    @property
    def realized_pnl(self) -> float:
        return sum(p.realized_pnl for p in self.positions.values())

    def apply(self, fill: Fill) -> None:
        """Book one fill (in the order the executor made them)."""
        pos = self.position(fill.leg)
        books = self.books(fill.leg)
        notional = fill.units * fill.price
        if fill.side > 0:
            self.cash = self.cash - notional - fill.fee
            books.cash = books.cash - notional - fill.fee
        else:
            self.cash = self.cash + notional - fill.fee
            books.cash = books.cash + notional - fill.fee
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
        return self.snapshot(time)

    def mark_leg(self, leg: str, time: pd.Timestamp, close: float) -> Snapshot:
        """Mark ``leg`` at ``close`` and snapshot that leg's own books at ``time`` (its cash,
        its equity, its peak and drawdown, its P&L and position); the account is not
        snapshotted (:meth:`snapshot` does, once per candle time)."""
        self.prices[leg] = close
        pos = self.position(leg)
        books = self.books(leg)
        equity = books.cash + pos.units * close
        books.peak = max(books.peak, equity)
        return Snapshot(
            time=time,
            cash=books.cash,
            equity=equity,
            peak=books.peak,
            drawdown=(equity - books.peak) / books.peak if books.peak > 0 else 0.0,
            realized_pnl=pos.realized_pnl,
            unrealized_pnl=pos.unrealized_pnl(close),
            positions={leg: pos.units},
        )

    def snapshot(self, time: pd.Timestamp) -> Snapshot:
        """Snapshot the account at ``time``, each leg at its last marked price."""
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
