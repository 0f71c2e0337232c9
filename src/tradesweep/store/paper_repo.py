"""Paper sessions and their records: tenant-scoped reads, idempotent writes.

Writes come from a session's runner, which may see the same candle or signal twice (a
redelivered event, a restart that replays from the last snapshot), so the ones that matter are
idempotent: :meth:`PaperRepository.add_order` on the order's id (:func:`order_id` of session,
leg and candle time) and :meth:`PaperRepository.add_snapshot` on (session, time), both by an
``INSERT ... ON CONFLICT DO NOTHING`` that is safe against a concurrent writer too.
Reads take the tenant and raise :class:`NotFound` for a session of another tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tradesweep.errors import TradesweepError
from tradesweep.store.errors import NotFound
from tradesweep.store.pagination import Page, decode_cursor, encode_cursor
from tradesweep.store.paper import (
    PaperOrder,
    PaperOrderStatus,
    PaperPosition,
    PaperSession,
    PaperSessionStatus,
    PaperSignal,
    PaperSnapshot,
    PaperSource,
    PaperTrade,
    order_id,
)
from tradesweep.store.types import utcnow

S = PaperSessionStatus
ALLOWED_TRANSITIONS: dict[PaperSessionStatus, frozenset[PaperSessionStatus]] = {
    S.QUEUED: frozenset({S.RUNNING, S.STOPPED, S.FAILED}),
    S.RUNNING: frozenset({S.STOPPED, S.COMPLETED, S.FAILED}),
    S.STOPPED: frozenset(),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
}
"""Where each status may go next; a terminal status goes nowhere."""


class InvalidSessionTransition(TradesweepError):
    """A paper session asked to move to a status it cannot reach from where it is."""

    code = "invalid_session_transition"


class PaperRepository:
    """Repositories flush, the caller commits (one transaction per unit of work)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # sessions

    def create_session(
        self, tenant_id: int, spec: dict[str, Any], source: PaperSource
    ) -> PaperSession:
        row = PaperSession(
            tenant_id=tenant_id,
            spec=spec,
            source=PaperSource(source),
            status=PaperSessionStatus.QUEUED,
            created_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def get_session(self, tenant_id: int, session_id: str) -> PaperSession:
        """The tenant's session; :class:`NotFound` when it is missing or another tenant's."""
        row = self.session.scalar(
            select(PaperSession).where(
                PaperSession.id == session_id, PaperSession.tenant_id == tenant_id
            )
        )
        if row is None:
            raise NotFound(
                f"no paper session {session_id!r}",
                fix="see GET /api/v1/paper/sessions for your sessions",
                field="session_id",
            )
        return row

    def list_sessions(
        self, tenant_id: int, *, limit: int = 50, cursor: str | None = None
    ) -> Page[PaperSession]:
        """The tenant's sessions, newest first."""
        query = select(PaperSession).where(PaperSession.tenant_id == tenant_id)
        if cursor is not None:
            created, last_id = decode_cursor(cursor, datetime, str)
            query = query.where(
                or_(
                    PaperSession.created_at < created,
                    and_(PaperSession.created_at == created, PaperSession.id < last_id),
                )
            )
        query = query.order_by(PaperSession.created_at.desc(), PaperSession.id.desc())
        rows = list(self.session.scalars(query.limit(limit + 1)))
        return _page(rows, limit, lambda r: (r.created_at.isoformat(), r.id))

    def set_status(
        self,
        tenant_id: int,
        session_id: str,
        status: PaperSessionStatus,
        *,
        error: str | None = None,
    ) -> PaperSession:
        """Move the session along :data:`ALLOWED_TRANSITIONS`, stamping ``started_at`` on
        running and ``stopped_at`` on a terminal status. Setting the status it already has
        is a no-op (a repeated stop request); anything else not allowed raises
        :class:`InvalidSessionTransition`."""
        status = PaperSessionStatus(status)
        row = self.get_session(tenant_id, session_id)
        if row.status == status:
            return row
        if status not in ALLOWED_TRANSITIONS[row.status]:
            raise InvalidSessionTransition(
                f"paper session {session_id!r} is {row.status.value} and cannot become "
                f"{status.value}",
                fix="a stopped, completed or failed session is final: start a new session",
                field="status",
                session_id=session_id,
            )
        now = utcnow()
        row.status = status
        if status is PaperSessionStatus.RUNNING:
            row.started_at = now
        if status.terminal:
            row.stopped_at = now
        if error is not None:
            row.error = error
        self.session.flush()
        return row

    # records written by the runner (by session id: the runner owns the session)

    def add_signal(
        self, session_id: str, leg: int, time: datetime, action: str, strategy: str
    ) -> PaperSignal:
        row = PaperSignal(
            session_id=session_id,
            leg=leg,
            time=time,
            action=action,
            strategy=strategy,
            created_at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def add_order(
        self,
        session_id: str,
        leg: int,
        time: datetime,
        *,
        side: str,
        size: float,
        price: float,
        status: PaperOrderStatus,
        reason: str | None = None,
    ) -> bool:
        """Store the order of ``leg`` on the candle at ``time``; False when it was stored
        before (a redelivered signal), leaving the first one as it was."""
        values = {
            "id": order_id(session_id, leg, time),
            "session_id": session_id,
            "leg": leg,
            "time": time,
            "side": side,
            "size": size,
            "price": price,
            "status": PaperOrderStatus(status),
            "reason": reason,
            "created_at": utcnow(),
        }
        return self._insert_once(PaperOrder, values, ["id"])

    def add_trade(self, session_id: str, leg: int, **fields: Any) -> PaperTrade:
        """A closed trade: ``entry_time``, ``exit_time``, ``entry_price``, ``exit_price``,
        ``size``, ``pnl``, ``pnl_pct``, ``fees``, ``exit_reason``."""
        row = PaperTrade(session_id=session_id, leg=leg, **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def upsert_position(
        self,
        session_id: str,
        leg: int,
        *,
        symbol: str,
        size: float,
        average_price: float,
        realised_pnl: float,
        unrealised_pnl: float,
    ) -> None:
        """Set the leg's position to these values, creating its row the first time."""
        values = {
            "session_id": session_id,
            "leg": leg,
            "symbol": symbol,
            "size": size,
            "average_price": average_price,
            "realised_pnl": realised_pnl,
            "unrealised_pnl": unrealised_pnl,
            "updated_at": utcnow(),
        }
        changed = {k: v for k, v in values.items() if k not in ("session_id", "leg")}
        insert = _dialect_insert(self.session, PaperPosition).values(values)
        self.session.execute(
            insert.on_conflict_do_update(index_elements=["session_id", "leg"], set_=changed)
        )

    def add_snapshot(
        self, session_id: str, time: datetime, *, cash: float, equity: float, drawdown: float
    ) -> bool:
        """Store the portfolio after the candle at ``time``; False when already stored."""
        values = {
            "session_id": session_id,
            "time": time,
            "cash": cash,
            "equity": equity,
            "drawdown": drawdown,
        }
        return self._insert_once(PaperSnapshot, values, ["session_id", "time"])

    # tenant-scoped reads, oldest first

    def positions(self, tenant_id: int, session_id: str) -> list[PaperPosition]:
        self.get_session(tenant_id, session_id)
        query = (
            select(PaperPosition)
            .where(PaperPosition.session_id == session_id)
            .order_by(PaperPosition.leg)
        )
        return list(self.session.scalars(query))

    def signals(self, tenant_id: int, session_id: str) -> list[PaperSignal]:
        self.get_session(tenant_id, session_id)
        query = (
            select(PaperSignal)
            .where(PaperSignal.session_id == session_id)
            .order_by(PaperSignal.time, PaperSignal.id)
        )
        return list(self.session.scalars(query))

    def orders(
        self, tenant_id: int, session_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[PaperOrder]:
        """The session's orders by candle time (then id)."""
        self.get_session(tenant_id, session_id)
        query = select(PaperOrder).where(PaperOrder.session_id == session_id)
        if cursor is not None:
            time, last_id = decode_cursor(cursor, datetime, str)
            query = query.where(
                or_(PaperOrder.time > time, and_(PaperOrder.time == time, PaperOrder.id > last_id))
            )
        query = query.order_by(PaperOrder.time, PaperOrder.id).limit(limit + 1)
        rows = list(self.session.scalars(query))
        return _page(rows, limit, lambda r: (r.time.isoformat(), r.id))

    def trades(
        self, tenant_id: int, session_id: str, *, limit: int = 100, cursor: str | None = None
    ) -> Page[PaperTrade]:
        """The session's closed trades by exit time (then id)."""
        self.get_session(tenant_id, session_id)
        query = select(PaperTrade).where(PaperTrade.session_id == session_id)
        if cursor is not None:
            time, last_id = decode_cursor(cursor, datetime, int)
            query = query.where(
                or_(
                    PaperTrade.exit_time > time,
                    and_(PaperTrade.exit_time == time, PaperTrade.id > last_id),
                )
            )
        query = query.order_by(PaperTrade.exit_time, PaperTrade.id).limit(limit + 1)
        rows = list(self.session.scalars(query))
        return _page(rows, limit, lambda r: (r.exit_time.isoformat(), r.id))

    def snapshots(
        self, tenant_id: int, session_id: str, *, limit: int = 500, cursor: str | None = None
    ) -> Page[PaperSnapshot]:
        """The session's equity curve by time (unique per session, so time alone is the key)."""
        self.get_session(tenant_id, session_id)
        query = select(PaperSnapshot).where(PaperSnapshot.session_id == session_id)
        if cursor is not None:
            (time,) = decode_cursor(cursor, datetime)
            query = query.where(PaperSnapshot.time > time)
        query = query.order_by(PaperSnapshot.time).limit(limit + 1)
        rows = list(self.session.scalars(query))
        return _page(rows, limit, lambda r: (r.time.isoformat(),))

    def _insert_once(self, model: Any, values: dict[str, Any], key: list[str]) -> bool:
        insert = _dialect_insert(self.session, model).values(values)
        statement = insert.on_conflict_do_nothing(index_elements=key).returning(model.id)
        return self.session.execute(statement).first() is not None


def _dialect_insert(session: Session, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"paper records need SQLite or PostgreSQL, not {dialect}")


def _page(rows: list[Any], limit: int, key: Any) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(*key(rows[-1])) if more else None)
