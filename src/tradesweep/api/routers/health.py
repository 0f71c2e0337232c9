"""``GET /health``: no key needed for the status; the checks behind it for a caller with a key.

Anyone gets ``{"status": ...}``: ``healthy``; ``degraded`` (still 200: the API serves) while
no worker is alive (no fresh heartbeat in the workers table), so nothing consumes the queue;
or
``unhealthy`` (503, ``Retry-After``) when the database cannot be reached. The checks
(database, workers, queue depth, free disk) come with a valid API key or the metrics token
(``Authorization: Bearer``): they describe the installation, not a tenant, and never name a
server path.
"""

from __future__ import annotations

import hmac
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tradesweep import __version__
from tradesweep.api.auth import presented_key
from tradesweep.api.deps import SessionsDep, SettingsDep, short_transaction
from tradesweep.api.openapi import errors
from tradesweep.services import jobs

router = APIRouter(tags=["health"])

LOW_DISK_BYTES = 500 * 1024 * 1024

Status = Literal["healthy", "degraded", "unhealthy"]


class HealthOut(BaseModel):
    status: Status = Field(
        description="healthy; degraded while no worker consumes the queue; unhealthy (503) "
        "when the database is unreachable"
    )
    version: str | None = Field(default=None, description="with a key or the metrics token")
    timestamp: datetime | None = Field(default=None, description="with a key or the metrics token")
    checks: dict[str, Any] | None = Field(
        default=None,
        description="database, workers, queue_depth, disk: with a key or the metrics token",
    )


@router.get(
    "/health",
    response_model=HealthOut,
    response_model_exclude_none=True,
    responses={
        **errors(),
        503: {"model": HealthOut, "description": "the database is unreachable (Retry-After)"},
    },
)
async def health(
    request: Request, sessions: SessionsDep, settings: SettingsDep, response: Response
) -> HealthOut:
    key = presented_key(request)
    operator = key is not None and _is_token(key, settings.metrics_token)
    async with request.app.state.write_gate:  # SQLite: take a turn like every request
        checks = await run_in_threadpool(_database_checks, sessions)
    status = _status(checks)
    # Not inside the checks' transaction: a key without an issued key's shape never reaches
    # the database, and one that has it is read in a short transaction of its own.
    key_valid = (
        key is not None
        and not operator
        and status != "unhealthy"
        and jobs.could_be_key(key)
        and await short_transaction(request, lambda session: jobs.key_is_valid(session, key))
    )
    if status == "unhealthy":
        response.status_code = 503
        response.headers["Retry-After"] = str(settings.retry_after_seconds)
    if not (operator or key_valid):
        return HealthOut(status=status)
    checks["disk"] = _disk(settings.data_dir)
    return HealthOut(status=status, version=__version__, timestamp=datetime.now(UTC), checks=checks)


def _is_token(presented: str, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(presented.encode(), token.encode())


def _status(checks: dict[str, Any]) -> Status:
    if checks["database"]["status"] != "ok":
        return "unhealthy"
    return "degraded" if checks["workers"].get("message") else "healthy"


def _database_checks(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The database, workers and queue depth checks."""
    try:
        with sessions.begin() as session:
            stats = jobs.queue_stats(session)
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        unreachable = {"status": "unreachable", "error": first_line[:200]}
        return {
            "database": unreachable,
            "workers": {"status": "unknown"},
            "queue_depth": None,
        }
    workers: dict[str, Any] = {
        "status": "ok" if stats["workers"] else "none",
        "alive": stats["workers"],
        "running_jobs": stats["running"],
    }
    if not stats["workers"]:
        workers["message"] = jobs.no_worker_message(stats["queue_depth"] + stats["running"])
    checks = {
        "database": {"status": "ok", "backend": stats["backend"]},
        "workers": workers,
        "queue_depth": stats["queue_depth"],
    }
    return checks


def _disk(path: Path) -> dict[str, Any]:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return {"status": "ok" if usage.free >= LOW_DISK_BYTES else "low", "free_bytes": usage.free}
