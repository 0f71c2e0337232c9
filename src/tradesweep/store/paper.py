"""Paper trading tables: the candles a paper session reads, and what the session did with them.

``paper_candles`` holds one row per (symbol, timeframe, time): the unique constraint is what
makes storing a candle twice (an overlapping poll, a backfill after a restart, a redelivered
event) a no-op.

A ``paper_sessions`` row belongs to a tenant; its signals, orders, trades, positions and
snapshots hang off it (``session_id``, deleted with it) and are read through it, so another
tenant's session and everything under it is :class:`~tradesweep.store.errors.NotFound`.
Redelivery is safe where it matters: an order's id is derived from (session, leg, candle time)
(:func:`order_id`), positions are unique per (session, leg) and snapshots per (session, time).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradesweep.store.models import Base, _str_enum, new_id
from tradesweep.store.types import BigIntPK, utcnow


class PaperCandle(Base):
    """A closed OHLCV candle; ``time`` is the candle's open time in UTC."""

    __tablename__ = "paper_candles"
    __table_args__ = (UniqueConstraint("symbol", "timeframe", "time"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(64))
    timeframe: Mapped[str] = mapped_column(String(16))
    time: Mapped[datetime]
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)


class PaperSessionStatus(str, Enum):  # noqa: UP042  (equal to its value, like JobStatus)
    """Where a paper session is. Terminal: stopped (by its owner), completed, failed."""

    QUEUED = "queued"
    RUNNING = "running"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (
            PaperSessionStatus.STOPPED,
            PaperSessionStatus.COMPLETED,
            PaperSessionStatus.FAILED,
        )


class PaperSource(str, Enum):  # noqa: UP042
    """Where a session's candles come from: stored history replayed, or a live exchange."""

    REPLAY = "replay"
    EXCHANGE = "exchange"


class PaperOrderStatus(str, Enum):  # noqa: UP042
    FILLED = "filled"
    REJECTED = "rejected"  # ``reason`` says why
    CANCELLED = "cancelled"


ORDER_ID_NAMESPACE = uuid.UUID("6f1d3c2a-8b7e-4d59-9a0c-3e5f7b21c4d8")


def order_id(session_id: str, leg: int, time: datetime) -> str:
    """The id of the order a signal of ``leg`` on the candle at ``time`` makes: a UUID5 of the
    three, so the same signal delivered twice names the same order."""
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, f"{session_id}/{leg}/{time.isoformat()}"))


def _session_fk() -> Any:
    return ForeignKey("paper_sessions.id", ondelete="CASCADE")


class PaperSession(Base):
    """One paper trading session: its spec as submitted, its status and its candle source."""

    __tablename__ = "paper_sessions"
    __table_args__ = (
        Index("ix_paper_sessions_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    spec: Mapped[dict[str, Any]]
    status: Mapped[PaperSessionStatus] = mapped_column(
        _str_enum(PaperSessionStatus), default=PaperSessionStatus.QUEUED
    )
    source: Mapped[PaperSource] = mapped_column(_str_enum(PaperSource))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]


class PaperSignal(Base):
    """What a leg's strategy asked for on one candle (``time``: the candle's open time)."""

    __tablename__ = "paper_signals"
    __table_args__ = (Index("ix_paper_signals_session_id_time", "session_id", "time"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_session_fk())
    leg: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaperOrder(Base):
    """An order, filled or not; ``id`` is :func:`order_id` of (session, leg, time)."""

    __tablename__ = "paper_orders"
    __table_args__ = (Index("ix_paper_orders_session_id_time_id", "session_id", "time", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(_session_fk())
    leg: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime]
    side: Mapped[str] = mapped_column(String(16))
    size: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    status: Mapped[PaperOrderStatus] = mapped_column(_str_enum(PaperOrderStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaperTrade(Base):
    """A closed round trip of one leg."""

    __tablename__ = "paper_trades"
    __table_args__ = (
        Index("ix_paper_trades_session_id_exit_time_id", "session_id", "exit_time", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_session_fk())
    leg: Mapped[int] = mapped_column(Integer)
    entry_time: Mapped[datetime]
    exit_time: Mapped[datetime]
    entry_price: Mapped[float] = mapped_column(Float)
    exit_price: Mapped[float] = mapped_column(Float)
    size: Mapped[float] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float)
    pnl_pct: Mapped[float] = mapped_column(Float)
    fees: Mapped[float] = mapped_column(Float)
    exit_reason: Mapped[str] = mapped_column(String(32))


class PaperPosition(Base):
    """A leg's open position now (size 0: flat); one row per (session, leg), overwritten."""

    __tablename__ = "paper_positions"
    __table_args__ = (UniqueConstraint("session_id", "leg"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_session_fk())
    leg: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(64))
    size: Mapped[float] = mapped_column(Float)
    average_price: Mapped[float] = mapped_column(Float)
    realised_pnl: Mapped[float] = mapped_column(Float)
    unrealised_pnl: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaperSnapshot(Base):
    """The portfolio after one candle; unique per (session, time), which also indexes reads."""

    __tablename__ = "paper_snapshots"
    __table_args__ = (UniqueConstraint("session_id", "time"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(_session_fk())
    time: Mapped[datetime]
    cash: Mapped[float] = mapped_column(Float)
    equity: Mapped[float] = mapped_column(Float)
    drawdown: Mapped[float] = mapped_column(Float)
