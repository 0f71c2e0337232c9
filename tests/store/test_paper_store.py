"""Paper session records on SQLite and PostgreSQL: redelivery never duplicates an order or a
snapshot, another tenant sees nothing, pages walk every row once, statuses only move forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import NotFound, Page, TenantRepository
from tradesweep.store.paper import (
    PaperOrder,
    PaperOrderStatus,
    PaperSessionStatus,
    PaperSnapshot,
    PaperSource,
    order_id,
)
from tradesweep.store.paper_repo import InvalidSessionTransition, PaperRepository

Sessions = sessionmaker[Session]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = {"symbol": "BTC/USDT", "timeframe": "1m", "legs": [{"strategy": "sma_cross"}]}


def _start(sessions: Sessions, tenant: str = "acme") -> tuple[int, str]:
    with sessions.begin() as s:
        tenant_id = TenantRepository(s).create(tenant).id
        paper = PaperRepository(s).create_session(tenant_id, SPEC, PaperSource.REPLAY)
        return tenant_id, paper.id


def _order(repo: PaperRepository, session_id: str, leg: int, time: datetime, **kw: object) -> bool:
    fields: dict[str, object] = {
        "side": "buy",
        "size": 1.0,
        "price": 100.0,
        "status": PaperOrderStatus.FILLED,
    }
    fields.update(kw)
    return repo.add_order(session_id, leg, time, **fields)  # type: ignore[arg-type]


def test_a_redelivered_signal_makes_one_order(sessions: Sessions) -> None:
    _, session_id = _start(sessions)
    with sessions.begin() as s:
        assert _order(PaperRepository(s), session_id, 0, T0) is True
    with sessions.begin() as s:  # the same signal again, in a later transaction
        assert _order(PaperRepository(s), session_id, 0, T0, price=101.0) is False
        assert _order(PaperRepository(s), session_id, 1, T0) is True  # another leg
    with sessions() as s:
        rows = s.scalars(select(PaperOrder).order_by(PaperOrder.leg)).all()
    assert [(r.id, r.leg, r.price) for r in rows] == [
        (order_id(session_id, 0, T0), 0, 100.0),
        (order_id(session_id, 1, T0), 1, 100.0),
    ]


def test_a_rejected_order_keeps_its_reason(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    with sessions.begin() as s:
        _order(
            PaperRepository(s),
            session_id,
            0,
            T0,
            status=PaperOrderStatus.REJECTED,
            reason="insufficient cash",
        )
    with sessions() as s:
        (order,) = PaperRepository(s).orders(tenant_id, session_id).items
    assert (order.status, order.reason) == (PaperOrderStatus.REJECTED, "insufficient cash")


def test_a_snapshot_is_stored_once_per_time(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    with sessions.begin() as s:
        repo = PaperRepository(s)
        assert repo.add_snapshot(session_id, T0, cash=1000.0, equity=1000.0, drawdown=0.0)
        assert not repo.add_snapshot(session_id, T0, cash=5.0, equity=5.0, drawdown=0.9)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PaperSnapshot)) == 1
        (snap,) = PaperRepository(s).snapshots(tenant_id, session_id).items
    assert (snap.time, snap.equity) == (T0, 1000.0)


def test_position_is_one_row_per_leg(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    for size, price in ((1.0, 100.0), (2.0, 105.0)):
        with sessions.begin() as s:
            PaperRepository(s).upsert_position(
                session_id,
                0,
                symbol="BTC/USDT",
                size=size,
                average_price=price,
                realised_pnl=0.0,
                unrealised_pnl=3.0,
            )
    with sessions() as s:
        (position,) = PaperRepository(s).positions(tenant_id, session_id)
    assert (position.size, position.average_price) == (2.0, 105.0)


def test_another_tenants_session_is_not_found(sessions: Sessions) -> None:
    _, session_id = _start(sessions, "acme")
    with sessions.begin() as s:
        other = TenantRepository(s).create("globex").id
    with sessions() as s:
        repo = PaperRepository(s)
        for read in (repo.get_session, repo.orders, repo.trades, repo.snapshots, repo.positions):
            with pytest.raises(NotFound) as caught:
                read(other, session_id)
            assert caught.value.details["field"] == "session_id"
        assert repo.list_sessions(other).items == []
        with pytest.raises(NotFound):
            repo.set_status(other, session_id, PaperSessionStatus.STOPPED)


def test_pages_walk_every_row_once_in_time_order(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    times = [T0 + timedelta(minutes=i) for i in range(7)]
    with sessions.begin() as s:
        repo = PaperRepository(s)
        for i, time in enumerate(reversed(times)):
            for leg in (0, 1):  # two orders per candle: the id breaks the tie
                _order(repo, session_id, leg, time)
            repo.add_snapshot(session_id, time, cash=1.0, equity=float(i), drawdown=0.0)
            repo.add_trade(
                session_id,
                0,
                entry_time=time - timedelta(minutes=1),
                exit_time=times[0],  # every trade ties on exit time: the id breaks the tie
                entry_price=1.0,
                exit_price=2.0,
                size=1.0,
                pnl=1.0,
                pnl_pct=100.0,
                fees=0.0,
                exit_reason="signal",
            )

    def walk(read: Callable[..., Page[Any]]) -> list[Any]:
        seen: list[Any] = []
        cursor = None
        while True:
            page = read(tenant_id, session_id, limit=3, cursor=cursor)
            seen.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return seen

    with sessions() as s:
        repo = PaperRepository(s)
        orders = walk(repo.orders)
        snapshots = walk(repo.snapshots)
        trades = walk(repo.trades)
    assert len({o.id for o in orders}) == len(orders) == 14
    assert [o.time for o in orders] == sorted(o.time for o in orders)
    assert [snap.time for snap in snapshots] == times
    trade_ids = [t.id for t in trades]
    assert trade_ids == sorted(trade_ids) and len(set(trade_ids)) == 7


def test_status_moves_forward_only(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    with sessions.begin() as s:
        repo = PaperRepository(s)
        running = repo.set_status(tenant_id, session_id, PaperSessionStatus.RUNNING)
        assert running.started_at is not None and running.stopped_at is None
        stopped = repo.set_status(tenant_id, session_id, PaperSessionStatus.STOPPED)
        assert stopped.stopped_at is not None
        # a repeated stop is a no-op, not an error
        assert (
            repo.set_status(tenant_id, session_id, PaperSessionStatus.STOPPED).stopped_at
            == stopped.stopped_at
        )
    with sessions() as s:
        repo = PaperRepository(s)
        with pytest.raises(InvalidSessionTransition) as caught:
            repo.set_status(tenant_id, session_id, PaperSessionStatus.RUNNING)
        assert caught.value.details == {"field": "status", "session_id": session_id}
        assert "start a new session" in str(caught.value)


def test_a_failed_session_keeps_its_error(sessions: Sessions) -> None:
    tenant_id, session_id = _start(sessions)
    with sessions.begin() as s:
        PaperRepository(s).set_status(
            tenant_id, session_id, PaperSessionStatus.FAILED, error="exchange unreachable"
        )
    with sessions() as s:
        paper = PaperRepository(s).get_session(tenant_id, session_id)
    assert (paper.status, paper.error, paper.spec) == (
        PaperSessionStatus.FAILED,
        "exchange unreachable",
        SPEC,
    )
    assert paper.stopped_at is not None and paper.started_at is None
