"""Paper trading tables: the closed candles a paper session reads (``paper_candles``).

One row per (symbol, timeframe, time): the unique constraint is what makes storing a candle
twice (an overlapping poll, a backfill after a restart, a redelivered event) a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradesweep.store.models import Base
from tradesweep.store.types import BigIntPK


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
