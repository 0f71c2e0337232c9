"""Real HTTP receivers on 127.0.0.1, a settable clock, and outbox rows to deliver."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import (
    Job,
    JobRepository,
    JobStatus,
    JobType,
    OutboxRepository,
    TenantRepository,
)
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]


@dataclass
class Reply:
    """How a receiver answers one request."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    endless: bool = False  # stream the body forever (chunked)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]  # names in lowercase
    body: bytes


class Receiver:
    """A threaded HTTP server on 127.0.0.1 answering POSTs with queued :class:`Reply` objects
    (the last one repeats) and remembering every request."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies) or [Reply()]
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.seen.append(Seen(self.path, headers, body))
                    reply = receiver.replies[0]
                    if len(receiver.replies) > 1:
                        receiver.replies.pop(0)
                time.sleep(reply.delay)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(reply)

            def _answer(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.endless:
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    chunk = b"x" * 8192
                    while True:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                body = b"" if reply.status in (204, 304) else reply.body
                if reply.status not in (204, 304):
                    self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


ReplySpec = int | dict[str, object]


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """Factory: ``receiver(500, 200)`` or ``receiver({"status": 200, "delay": 2})`` -> a
    started :class:`Receiver` answering with those replies in turn (the last one repeats)."""
    started: list[Receiver] = []

    def make(*replies: ReplySpec) -> Receiver:
        specs = [Reply(status=r) if isinstance(r, int) else Reply(**r) for r in replies]  # type: ignore[arg-type]
        server = Receiver(specs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


class Clock:
    """Aware UTC time that moves only when told. It starts 2 s after the real now, so rows a
    test makes are already due, and stays close to it: receivers check signatures against the
    real clock, with 5 minutes' tolerance."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow() + timedelta(seconds=2)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dead_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _finished_job(
    sessions: Sessions,
    webhook_url: str | None,
    *,
    tenant: str = "acme",
    status: JobStatus = JobStatus.COMPLETED,
    type: JobType = JobType.SWEEP,
) -> Job:
    """A job that ended, with its webhook queued in the same transaction (as workers do)."""
    with sessions.begin() as s:
        owner = TenantRepository(s).get_or_create(tenant)
        job = (
            JobRepository(s)
            .create(owner.id, type, {"spec": {}}, ticker="GOOGL", webhook_url=webhook_url)
            .job
        )
    with sessions.begin() as s:
        now = utcnow()
        values: dict[str, object] = {"status": status, "completed_at": now}
        if status is JobStatus.COMPLETED:
            values["result"] = {"sweep_run_id": "run-1", "total_combinations": 42}
            values["metrics"] = {"duration_seconds": 1.5}
        else:
            values["error"] = "data not found for ticker GOOGL"
        s.execute(update(Job).where(Job.id == job.id).values(**values))
        job = s.get(Job, job.id, populate_existing=True)
        assert job is not None
        OutboxRepository(s).enqueue_for_job(job)
    return job


@pytest.fixture
def finished_job(sessions: Sessions) -> Callable[..., Job]:
    """Factory: ``finished_job(url, status=..., type=..., tenant=...)`` -> a finished job
    whose webhook was queued in the transaction that finished it."""
    return lambda url, **kwargs: _finished_job(sessions, url, **kwargs)


@pytest.fixture
def make_delivery(sessions: Sessions) -> Callable[..., str]:
    """Factory: ``make_delivery(url, ...)`` -> the id of a new PENDING delivery to ``url``."""

    def make(url: str, **kwargs: object) -> str:
        job = _finished_job(sessions, url, **kwargs)  # type: ignore[arg-type]
        with sessions() as s:
            (delivery,) = OutboxRepository(s).for_job(job.id)
        return delivery.id

    return make
