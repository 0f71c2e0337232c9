"""Closed candles: the :class:`Candle` value every source yields, and :class:`CandleStore`,
which keeps each one once in SQL.

``Candle.time`` is the candle's **open** time as a timezone-aware UTC :class:`pandas.Timestamp`,
the same instant as the bar's index in a registered dataset, so a replayed candle and a
backtest bar name the same moment. ``to_dict`` writes it as epoch milliseconds (what exchanges
and the bus speak); ``from_dict`` reads epoch milliseconds or an ISO text.

The store's guarantee: a (symbol, timeframe, time) is stored at most once. An insert that
meets an existing row is skipped by the database itself (``ON CONFLICT DO NOTHING`` on SQLite
and PostgreSQL), so overlapping polls, a backfill after a restart and two collectors racing
all leave one row, and the first stored values win.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # SQLAlchemy is the service extra's: a replay (the core install) needs none
    from sqlalchemy.orm import Session, sessionmaker

_FIELDS = ("open", "high", "low", "close", "volume")
_CHUNK = 500


def utc_timestamp(value: Any) -> pd.Timestamp:
    """A UTC timestamp from epoch milliseconds, an ISO text, a datetime or a Timestamp
    (a naive one is read as UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        stamp = pd.Timestamp(int(value), unit="ms")
    else:
        stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed OHLCV candle of ``symbol`` at ``timeframe`` opening at ``time`` (UTC)."""

    symbol: str
    timeframe: str
    time: pd.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def time_ms(self) -> int:
        """The open time in epoch milliseconds."""
        return int(self.time.value // 1_000_000)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``time`` in epoch milliseconds, prices and volume as floats."""
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "time": self.time_ms,
            **{name: float(getattr(self, name)) for name in _FIELDS},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candle:
        return cls(
            symbol=str(data["symbol"]),
            timeframe=str(data["timeframe"]),
            time=utc_timestamp(data["time"]),
            **{name: float(data[name]) for name in _FIELDS},
        )


class CandleStore:
    """Closed candles in the ``paper_candles`` table; one short transaction per call."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def add(self, candles: Iterable[Candle]) -> int:
        """Store the candles not stored yet; returns how many were new."""
        rows = [_row(candle) for candle in candles]
        if not rows:
            return 0
        from tradesweep.store.paper import PaperCandle

        added = 0
        with self.sessions.begin() as session:
            insert = _insert_ignoring_duplicates(session)
            for i in range(0, len(rows), _CHUNK):
                chunk = insert.values(rows[i : i + _CHUNK]).returning(PaperCandle.id)
                added += len(session.execute(chunk).all())  # skipped rows return nothing
        return added

    def last_time(self, symbol: str, timeframe: str) -> pd.Timestamp | None:
        """The open time of the newest stored candle, or None when there is none."""
        from sqlalchemy import select

        from tradesweep.store.paper import PaperCandle

        with self.sessions() as session:
            newest = session.scalars(
                select(PaperCandle.time)
                .where(PaperCandle.symbol == symbol, PaperCandle.timeframe == timeframe)
                .order_by(PaperCandle.time.desc())
                .limit(1)
            ).first()
        return None if newest is None else utc_timestamp(newest)

    def range(
        self,
        symbol: str,
        timeframe: str,
        start: Any = None,
        end: Any = None,
    ) -> list[Candle]:
        """The stored candles opening between ``start`` and ``end`` (both inclusive, either
        open), oldest first."""
        from sqlalchemy import select

        from tradesweep.store.paper import PaperCandle

        query = select(PaperCandle).where(
            PaperCandle.symbol == symbol, PaperCandle.timeframe == timeframe
        )
        if start is not None:
            query = query.where(PaperCandle.time >= utc_timestamp(start).to_pydatetime())
        if end is not None:
            query = query.where(PaperCandle.time <= utc_timestamp(end).to_pydatetime())
        with self.sessions() as session:
            rows = session.scalars(query.order_by(PaperCandle.time)).all()
            return [
                Candle(
                    row.symbol,
                    row.timeframe,
                    utc_timestamp(row.time),
                    row.open,
                    row.high,
                    row.low,
                    row.close,
                    row.volume,
                )
                for row in rows
            ]


def _row(candle: Candle) -> dict[str, Any]:
    return {
        "symbol": candle.symbol,
        "timeframe": candle.timeframe,
        "time": candle.time.to_pydatetime(),
        **{name: float(getattr(candle, name)) for name in _FIELDS},
    }


def _insert_ignoring_duplicates(session: Session) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    from tradesweep.store.paper import PaperCandle

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(PaperCandle).on_conflict_do_nothing(
            constraint="uq_paper_candles_symbol_timeframe_time"
        )
    if dialect == "sqlite":
        return sqlite.insert(PaperCandle).on_conflict_do_nothing(
            index_elements=["symbol", "timeframe", "time"]
        )
    raise NotImplementedError(f"paper candles need SQLite or PostgreSQL, not {dialect}")
