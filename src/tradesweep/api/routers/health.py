"""``GET /health``: no key needed; 503 ``unhealthy`` when the database cannot be reached."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tradesweep import __version__
from tradesweep.api.deps import SessionsDep, SettingsDep
from tradesweep.api.openapi import errors
from tradesweep.api.schemas import HealthOut
from tradesweep.store import JobRepository
from tradesweep.store.types import utcnow

router = APIRouter(tags=["health"])

LOW_DISK_BYTES = 500 * 1024 * 1024


@router.get(
    "/health",
    response_model=HealthOut,
    responses={**errors(), 503: {"model": HealthOut}},
)
async def health(
    request: Request, sessions: SessionsDep, settings: SettingsDep, response: Response
) -> HealthOut:
    async with request.app.state.write_gate:  # SQLite: take a turn like every request
        checks = await run_in_threadpool(_database_checks, sessions)
    healthy = checks["database"]["status"] == "ok"
    checks["disk"] = _disk(settings.data_dir)
    if not healthy:
        response.status_code = 503
        response.headers["Retry-After"] = str(settings.retry_after_seconds)
    return HealthOut(
        status="healthy" if healthy else "unhealthy",
        version=__version__,
        timestamp=utcnow(),
        checks=checks,
    )


def _database_checks(sessions: sessionmaker[Session]) -> dict[str, Any]:
    try:
        with sessions.begin() as session:
            session.execute(text("SELECT 1"))
            stats = JobRepository(session).stats()
            backend = session.get_bind().dialect.name
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return {
            "database": {"status": "unreachable", "error": first_line[:200]},
            "workers": {"status": "unknown"},
            "queue_depth": None,
        }
    return {
        "database": {"status": "ok", "backend": backend},
        "workers": {
            "status": "ok" if stats["workers"] else "none",
            "alive": stats["workers"],
            "running_jobs": stats["running"],
        },
        "queue_depth": stats["queue_depth"],
    }


def _disk(path: Path) -> dict[str, Any]:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return {
        "status": "ok" if usage.free >= LOW_DISK_BYTES else "low",
        "free_bytes": usage.free,
        "path": str(path),
    }
