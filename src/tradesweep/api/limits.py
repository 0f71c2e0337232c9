"""Limits that keep one caller from crowding out the others, and text the database refuses.

- **Submission rate**, per API key: a token bucket (``rate`` tokens a second, ``burst``
  deep) in this API process. Several API processes each keep their own buckets, so behind a
  load balancer a key gets up to ``processes x rate``. Over it: 429 ``rate_limited`` with
  ``Retry-After``.
- **Active jobs**, per tenant: queued + running jobs, counted in the database in the
  submission's own transaction (the tenant's row locked on PostgreSQL; SQLite transactions
  already take turns), so the cap holds across API processes. At it: 429
  ``too_many_active_jobs``. A retry of a stored submission (same ``Idempotency-Key``) is
  answered as before, never refused by the cap.
- **NUL characters**: PostgreSQL refuses U+0000 in text, SQLite would store it; both answer
  400 ``nul_character`` naming the field, for the path, query parameters, headers
  (:class:`NulGuard`) and JSON or form bodies (:func:`reject_nul`, called by ``read_body``).

The settings (defaults: 10 submissions a second, bursts of 20, 100 active jobs) are
:class:`~tradesweep.api.settings.ApiSettings` fields. The request body cap (413) is
:class:`tradesweep.api.middleware.BodyLimit`; the sweep size cap is ``max_combinations`` of
the sweep spec (``ApiSettings.max_sweep_combinations``); page sizes are capped by each
route's ``limit`` (422 above it).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from tradesweep.api.auth import Principal
from tradesweep.api.errors import InvalidBody, TooManyRequests, error_response
from tradesweep.store import Job, JobStatus, Tenant

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_NUL = "\x00"
_NUL_FIX = "remove the NUL character (U+0000, %00): text may not contain it"


class RateLimited(TooManyRequests):
    code = "rate_limited"


class TooManyActiveJobs(TooManyRequests):
    code = "too_many_active_jobs"


class NulCharacter(InvalidBody):
    code = "nul_character"


# ---- submission rate ---------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """A token bucket per key: each holds up to ``burst`` tokens and refills at ``rate`` a
    second; :meth:`take` spends one. ``rate <= 0`` turns the limit off. Thread-safe (sync
    routes run in a thread pool). Full buckets are forgotten once more than ``max_keys`` are
    held, so memory stays bounded by the keys active within ``burst / rate`` seconds."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of ``key``'s bucket: 0.0 when there was one, else the seconds until
        there will be (nothing is spent then)."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


def check_rate(buckets: TokenBuckets, principal: Principal) -> None:
    """Spend one submission of the caller's key; :class:`RateLimited` when none is left."""
    wait = buckets.take(principal.key_prefix)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"too many submissions with key {principal.key_prefix}: at most "
            f"{buckets.rate:g} a second (bursts of {buckets.burst})",
            fix=f"retry after {seconds} s (Retry-After), or spread submissions out",
            retry_after_seconds=seconds,
            limit_per_second=buckets.rate,
            burst=buckets.burst,
        )


# ---- active jobs per tenant --------------------------------------------------------------


def check_active_jobs(
    session: Session,
    tenant_id: int,
    limit: int,
    *,
    idempotency_key: str | None = None,
    retry_after_seconds: int = 5,
) -> None:
    """Refuse a new job when the tenant has ``limit`` queued or running jobs (``limit <= 0``:
    no cap). Call it in the transaction that stores the job: on PostgreSQL it locks the
    tenant's row until that transaction ends, so two concurrent submissions cannot both take
    the last place."""
    if limit <= 0:
        return
    session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    if idempotency_key is not None and session.scalar(
        select(Job.id).where(Job.tenant_id == tenant_id, Job.idempotency_key == idempotency_key)
    ):
        return  # a retry: answered with the stored job, whatever the count is now
    active = session.scalar(
        select(func.count()).where(Job.tenant_id == tenant_id, Job.status.in_(ACTIVE))
    )
    if (active or 0) >= limit:
        raise TooManyActiveJobs(
            f"the tenant has {active} queued or running jobs, the most it may have at once "
            f"is {limit}",
            fix="wait for some to finish (or cancel some: POST /api/v1/jobs/{id}/cancel)",
            retry_after_seconds=retry_after_seconds,
            active_jobs=active,
            limit=limit,
        )


# ---- NUL characters ----------------------------------------------------------------------


def nul_path(value: Any, path: str = "") -> str | None:
    """The place of the first string holding U+0000 in ``value`` (nested dicts and lists,
    keys included), as ``field`` or ``field.key.0``; None when there is none."""
    if isinstance(value, str):
        return (path or "body") if _NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key)
            where = f"{path}.{name}" if path else name
            if _NUL in name:
                return where
            found = nul_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = nul_path(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


def reject_nul(body: Mapping[str, Any]) -> None:
    """:class:`NulCharacter` (400) naming the first field of ``body`` that holds U+0000."""
    where = nul_path(body)
    if where is not None:
        raise NulCharacter(
            f"{where}: text contains a NUL character",
            fix=_NUL_FIX,
            field=where.split(".", 1)[0].replace(_NUL, "\\x00"),
            path=where.replace(_NUL, "\\x00"),
            location="body",
        )


class NulGuard:
    """400 ``nul_character`` for a request whose path, query parameters (names or values,
    percent-decoded) or header values hold U+0000, before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _scope_nul(scope)
            if problem is not None:
                location, name = problem
                response = error_response(
                    400,
                    NulCharacter.code,
                    f"{location} {name!r} contains a NUL character ({_NUL_FIX})",
                    {"field": name, "location": location, "fix": _NUL_FIX},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _scope_nul(scope: Scope) -> tuple[str, str] | None:
    if _NUL in scope.get("path", ""):
        return "path", "path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or _NUL in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if _NUL in name or _NUL in value:
                return "query parameter", name.replace(_NUL, "\\x00")
    for name, value in scope.get("headers", ()):
        if b"\x00" in value:
            return "header", name.decode("latin-1")
    return None
