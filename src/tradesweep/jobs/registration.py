"""A worker's row in ``workers``: inserted at start, its heartbeat renewed every few seconds,
deleted on a clean exit. ``JobRepository.stats()`` counts the fresh ones for ``/health``."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from tradesweep.store import WorkerRecord

OWNER_LENGTH = 128


@dataclass(frozen=True)
class WorkerIdentity:
    """``id`` (``hostname:pid:uuid8``) is the worker's row and the ``lease_owner`` of the jobs
    it runs; unique per process start, so a restarted worker never mistakes an old lease for
    its own."""

    id: str
    hostname: str
    pid: int
    concurrency: int

    @classmethod
    def new(cls, concurrency: int) -> WorkerIdentity:
        hostname, pid = socket.gethostname(), os.getpid()
        suffix = f":{pid}:{uuid.uuid4().hex[:8]}"
        return cls(hostname[: OWNER_LENGTH - len(suffix)] + suffix, hostname, pid, concurrency)

    def register(self, session: Session, now: datetime) -> None:
        session.merge(
            WorkerRecord(
                id=self.id,
                hostname=self.hostname[:255],
                pid=self.pid,
                concurrency=self.concurrency,
                started_at=now,
                heartbeat_at=now,
            )
        )

    def beat(self, session: Session, now: datetime) -> None:
        """Renew the heartbeat; register again if the row went missing meanwhile."""
        updated = session.scalar(
            update(WorkerRecord)
            .where(WorkerRecord.id == self.id)
            .values(heartbeat_at=now)
            .returning(WorkerRecord.id)
            .execution_options(synchronize_session=False)
        )
        if updated is None:
            self.register(session, now)

    def unregister(self, session: Session) -> None:
        session.execute(delete(WorkerRecord).where(WorkerRecord.id == self.id))
