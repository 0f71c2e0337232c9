"""Server-Sent Events of a job's progress, read from its stored event log (``job_events``).

The log is written by whichever worker runs the job (docs/jobs.md, "Events"), so every API
process streams the same events with the same ids: an event's ``id:`` is its ``seq`` (1, 2,
... per job), and a client that reconnects with ``Last-Event-ID: n`` gets the events after
``n``, none missed and none twice.

:class:`JobEventStream` polls the log every ``poll_seconds`` in short read transactions (a
thread each, taking the app's SQLite gate like any request, never holding it between polls),
sends a ``: keep-alive`` comment after ``heartbeat_seconds`` of silence, and ends after the
job's final event (completed, failed or cancelled), when the client goes away, or when the
server starts to stop (the client reconnects, to this server or another, with its
``Last-Event-ID``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tradesweep.store import FINISHED_STATUSES, Job, JobEvent, JobRepository, JobStatus

FINISHED = FINISHED_STATUSES  # the name the streams (routers.stream, ws) test a status with
TERMINAL_KINDS = frozenset(status.value for status in FINISHED_STATUSES)
"""A job's final event is named after its final status."""
HEARTBEAT = b": keep-alive\n\n"
RETRY_MILLISECONDS = 2000
"""How long an ``EventSource`` waits before it reconnects (sent once, as ``retry:``)."""
READ_LIMIT = 500
"""Events read per poll at most; a longer backlog is read in several polls, without pause."""
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
    "Connection": "keep-alive",
}
MEDIA_TYPE = "text/event-stream"
MAX_EVENT_ID = 2**63 - 1
"""The largest ``Last-Event-ID`` (``seq`` is a 64-bit integer): a larger one is a 422 before the
stream starts, never a stream that fails after its 200 (which an ``EventSource`` would retry
forever)."""


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Poll:
    """One read of the log: the events after the last one sent, and the job's status read
    just before them (None when the job no longer exists)."""

    events: list[StoredEvent]
    status: JobStatus | None
    error: str | None = None


def event_data(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON a client gets for a stored event.

    ``progress`` and ``started``: ``{"percent", "message", "timestamp"}``; ``retry``: the
    same with ``"retry": true``, the ended ``attempt`` and ``run_after`` (the next attempt
    starts from 0 %); ``completed``: ``{"done": true, "status": "completed", "sweep_run_id"
    (or "backtest_run_id"), "timestamp"}``; ``failed``: ``{"error": true, "message",
    "timestamp"}`` plus ``"done": true, "status": "failed"``; ``cancelled``: ``{"done": true,
    "status": "cancelled", "timestamp"}``.
    """
    if kind == "retry":
        return {
            "percent": 0.0,
            "message": payload.get("message", "retrying"),
            "retry": True,
            "attempt": payload.get("attempt"),
            "run_after": payload.get("run_after"),
            "timestamp": payload.get("timestamp"),
        }
    if kind == "failed":
        return {**payload, "done": True, "status": "failed"}
    return dict(payload)


def encode(data: dict[str, Any], seq: int | None = None) -> bytes:
    """One SSE event: ``id: <seq>`` (when given) and ``data: <compact JSON>``."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False, default=str)
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}data: {text}\n\n".encode()


def final_data(status: JobStatus, error: str | None) -> dict[str, Any]:
    """The final event of a finished job whose log has none (never expected: every final
    write logs its event in the same transaction)."""
    if status is JobStatus.FAILED:
        return {"error": True, "done": True, "status": "failed", "message": error or "failed"}
    return {"done": True, "status": status.value}


def read_after(sessions: sessionmaker[Session], job_id: str, after: int) -> Poll:
    """The job's status, then its events after ``after`` (at most :data:`READ_LIMIT`), in one
    short transaction. Status first: a final status seen here was committed together with its
    event, so the event read next is there too (read committed, statement by statement)."""
    with sessions.begin() as session:
        row = session.execute(select(Job.status, Job.error).where(Job.id == job_id)).first()
        if row is None:
            return Poll([], None)
        events: Sequence[JobEvent] = JobRepository(session).events_after(
            job_id, after, limit=READ_LIMIT
        )
        return Poll(
            [StoredEvent(e.seq, e.kind, dict(e.payload or {})) for e in events],
            JobStatus(row.status),
            row.error,
        )


class JobEventStream:
    """The bytes of one client's stream of ``job_id``'s events after ``after``.

    ``gate``: the app's SQLite transaction gate (an ``asyncio.Lock``; a no-op elsewhere),
    taken for each read only. ``disconnected``: ``request.is_disconnected``, checked before
    every read. ``stopping``: set when the server shuts down, checked before every read.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        job_id: str,
        *,
        after: int,
        gate: AbstractAsyncContextManager[Any],
        disconnected: Callable[[], Awaitable[bool]],
        poll_seconds: float,
        heartbeat_seconds: float,
        stopping: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.job_id = job_id
        self.after = after
        self.gate = gate
        self.disconnected = disconnected
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stopping = stopping or threading.Event()
        self.clock = clock

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
        quiet_since = self.clock()
        while not (self.stopping.is_set() or await self.disconnected()):
            poll = await self._read()
            for event in poll.events:
                yield encode(event_data(event.kind, event.payload), event.seq)
                self.after = event.seq
                if event.kind in TERMINAL_KINDS:
                    return
            if poll.events:
                quiet_since = self.clock()
                if len(poll.events) >= READ_LIMIT:
                    continue  # more waiting: read on at once
            if poll.status is None:
                return  # the job was deleted
            if poll.status in FINISHED:
                yield encode(final_data(poll.status, poll.error))
                return
            if self.clock() - quiet_since >= self.heartbeat_seconds:
                yield HEARTBEAT
                quiet_since = self.clock()
            wait = min(self.poll_seconds, self.heartbeat_seconds - (self.clock() - quiet_since))
            await anyio.sleep(max(wait, 0.0))

    async def _read(self) -> Poll:
        async with self.gate:
            return await run_in_threadpool(read_after, self.sessions, self.job_id, self.after)
