"""Authentication for the dashboard routes that compute after checking the caller (replaying
a backtest, validating an uploaded file, planning a sweep).

It is the same :func:`~tradesweep.api.auth.authenticate` as
:data:`~tradesweep.api.deps.PrincipalDep`, with the same errors, but in a transaction of its
own that ends before the work starts: :data:`PrincipalDep` shares the route's transaction,
which on SQLite holds the database (and so every other request) until the route returns.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tradesweep.api.auth import Principal, authenticate
from tradesweep.api.deps import SettingsDep

T = TypeVar("T")


async def short_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one transaction of its own, taking its turn through the app's
    SQLite write gate when it has one."""
    state = request.app.state
    gate = getattr(state, "write_gate", None) or nullcontext()
    async with gate:
        return await run_in_threadpool(_run, state.sessions, work)


def _run(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    with sessions.begin() as session:
        return work(session)


async def get_caller(request: Request, settings: SettingsDep) -> Principal:
    return await short_transaction(
        request, lambda session: authenticate(session, request, settings.session_secret)
    )


CallerDep = Annotated[Principal, Depends(get_caller)]
"""The authenticated caller, checked in a short transaction of its own."""
