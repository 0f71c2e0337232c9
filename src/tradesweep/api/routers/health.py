"""``GET /health``: no key needed; 503 ``unhealthy`` when the database cannot be reached."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tradesweep import __version__
from tradesweep.api.deps import SessionsDep, SettingsDep
from tradesweep.api.schemas import HealthOut
from tradesweep.store import JobRepository
from tradesweep.store.types import utcnow

router = APIRouter(tags=["health"])

LOW_DISK_BYTES = 500 * 1024 * 1024


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(sessions: SessionsDep, settings: SettingsDep, response: Response) -> HealthOut:
    checks: dict[str, Any] = {}
    healthy = True
    try:
        with sessions.begin() as session:
            session.execute(text("SELECT 1"))
            stats = JobRepository(session).stats()
        checks["database"] = {"status": "ok", "backend": session.bind.dialect.name}  # type: ignore[union-attr]
        checks["workers"] = {
            "status": "ok" if stats["workers"] else "none",
            "alive": stats["workers"],
            "running_jobs": stats["running"],
        }
        checks["queue_depth"] = stats["queue_depth"]
    except SQLAlchemyError as exc:
        healthy = False
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        checks["database"] = {"status": "unreachable", "error": first_line[:200]}
        checks["workers"] = {"status": "unknown"}
        checks["queue_depth"] = None
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
