"""SSE progress streams over a real server (uvicorn in a thread, httpx streaming), with the
events written straight into the job's log as a worker would: ids, shapes, resume with
Last-Event-ID (header and query), the end of a finished job's stream, keep-alives, auth and
tenants, headers, and that an idle stream leaves the SQLite gate free. SQLite and PostgreSQL.

The full run with a real worker, a disconnect and a reconnect mid-sweep is
``test_stream_serve.py``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.api.auth import SESSION_COOKIE
from tradesweep.store import (
    ApiKeyRepository,
    Job,
    JobRepository,
    JobStatus,
    JobType,
    TenantRepository,
)
from tradesweep.store.types import utcnow

HEARTBEAT_SECONDS = 0.4


@dataclass
class Sse:
    """What a stream sent: events (id, parsed data) in order, and keep-alive comments."""

    status: int
    headers: httpx.Headers
    events: list[tuple[int | None, dict[str, Any]]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    closed_by_server: bool = False

    @property
    def ids(self) -> list[int | None]:
        return [i for i, _ in self.events]


def read_sse(
    client: httpx.Client,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    stop: Callable[[Sse], bool] = lambda _: False,
    timeout: float = 20,
    on_event: Callable[[Sse], None] | None = None,
) -> Sse:
    """Read ``path`` as SSE until the server closes it or ``stop(sse)`` says enough (the
    client then hangs up)."""
    deadline = time.monotonic() + timeout
    with client.stream("GET", path, headers=headers, params=params) as response:
        sse = Sse(response.status_code, response.headers)
        if response.status_code != 200:
            response.read()
            return sse
        event_id: int | None = None
        data: list[str] = []
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"stream still open after {timeout} s: {sse}"
            if line.startswith(":"):
                sse.comments.append(line)
            elif line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("retry: "):
                sse.retry = int(line[7:])
            elif line == "" and data:
                sse.events.append((event_id, json.loads("\n".join(data))))
                event_id, data = None, []
                if on_event is not None:
                    on_event(sse)
            if stop(sse):
                return sse
        sse.closed_by_server = True
        return sse


@dataclass(frozen=True)
class Tenant:
    id: int
    key: str
    client: httpx.Client


@pytest.fixture
def stream_api(settings: ApiSettings, engine: Engine, serve_app: Callable[[object], str]) -> str:
    fast = replace(settings, sse_poll_seconds=0.05, sse_heartbeat_seconds=HEARTBEAT_SECONDS)
    return serve_app(create_app(fast, engine=engine))


@pytest.fixture
def tenant(stream_api: str, sessions: sessionmaker[Session]) -> Iterator[Callable[[str], Tenant]]:
    clients: list[httpx.Client] = []

    def make(name: str) -> Tenant:
        with sessions.begin() as s:
            owner = TenantRepository(s).get_or_create(name)
            key = ApiKeyRepository(s).create(owner).key
        client = httpx.Client(base_url=stream_api, headers={"X-API-Key": key}, timeout=10)
        clients.append(client)
        return Tenant(owner.id, key, client)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def new_job(sessions: sessionmaker[Session]) -> Callable[[int], str]:
    def make(tenant_id: int) -> str:
        with sessions.begin() as s:
            job = JobRepository(s).create(tenant_id, JobType.SWEEP, {"spec": {}}, ticker="GOOGL")
            return job.job.id

    return make


def log(sessions: sessionmaker[Session], job_id: str, kind: str, payload: dict[str, Any]) -> None:
    """Append an event as a worker does; a final kind also sets the job's final status."""
    final = {"completed": JobStatus.COMPLETED, "failed": JobStatus.FAILED}
    final["cancelled"] = JobStatus.CANCELLED
    with sessions.begin() as s:
        job = s.get(Job, job_id)
        assert job is not None
        if kind in final:
            job.status, job.completed_at = final[kind], utcnow()
        elif job.status is JobStatus.QUEUED:
            job.status = JobStatus.RUNNING
        JobRepository(s).append_event(job_id, kind, payload)


def a_whole_run(sessions: sessionmaker[Session], job_id: str) -> None:
    now = utcnow().isoformat()
    log(sessions, job_id, "started", {"percent": 0, "message": "Started (attempt 1 of 3)",
                                      "timestamp": now})  # fmt: skip
    log(sessions, job_id, "progress", {"percent": 50.0, "message": "Processing 5/10",
                                       "timestamp": now})  # fmt: skip
    log(sessions, job_id, "retry", {"attempt": 1, "message": "RuntimeError: flaky",
                                    "run_after": now, "timestamp": now})  # fmt: skip
    log(sessions, job_id, "progress", {"percent": 100.0, "message": "Processing 10/10",
                                       "timestamp": now})  # fmt: skip
    log(sessions, job_id, "completed", {"done": True, "status": "completed",
                                        "sweep_run_id": "run-1", "timestamp": now})  # fmt: skip


def stream_path(job_id: str) -> str:
    return f"/api/v1/jobs/{job_id}/stream"


def test_a_finished_job_streams_every_event_with_its_seq_then_closes(
    tenant: Callable[[str], Tenant], new_job: Callable[[int], str], sessions: sessionmaker[Session]
) -> None:
    acme = tenant("acme")
    job_id = new_job(acme.id)
    a_whole_run(sessions, job_id)

    sse = read_sse(acme.client, stream_path(job_id), headers={"Accept-Encoding": "gzip"})
    assert sse.status == 200 and sse.closed_by_server
    assert sse.ids == [1, 2, 3, 4, 5]
    data = [d for _, d in sse.events]
    assert data[0]["percent"] == 0 and data[0]["message"].startswith("Started")
    assert {k: data[1][k] for k in ("percent", "message")} == {
        "percent": 50.0,
        "message": "Processing 5/10",
    }
    assert "timestamp" in data[1]
    assert data[2]["retry"] is True and data[2]["percent"] == 0.0
    assert data[2]["message"] == "RuntimeError: flaky" and data[2]["attempt"] == 1
    assert data[4] == {
        "done": True,
        "status": "completed",
        "sweep_run_id": "run-1",
        "timestamp": data[4]["timestamp"],
    }
    assert sse.retry is not None
    assert sse.headers["content-type"].startswith("text/event-stream")
    assert sse.headers["cache-control"] == "no-cache"
    assert sse.headers["x-accel-buffering"] == "no"
    assert "content-encoding" not in sse.headers  # never compressed, even when asked
    assert sse.headers["x-request-id"]


def test_last_event_id_resumes_after_that_event_header_or_query(
    tenant: Callable[[str], Tenant], new_job: Callable[[int], str], sessions: sessionmaker[Session]
) -> None:
    acme = tenant("acme")
    job_id = new_job(acme.id)
    a_whole_run(sessions, job_id)

    by_header = read_sse(acme.client, stream_path(job_id), headers={"Last-Event-ID": "2"})
    assert by_header.ids == [3, 4, 5] and by_header.closed_by_server
    by_query = read_sse(acme.client, stream_path(job_id), params={"last_event_id": "3"})
    assert by_query.ids == [4, 5]
    proxy = read_sse(
        acme.client, f"/sse-proxy/jobs/{job_id}/stream", headers={"Last-Event-ID": "4"}
    )
    assert proxy.ids == [5] and proxy.events[0][1]["done"] is True

    # The client has the final event: 204 tells an EventSource to stop reconnecting.
    done = read_sse(acme.client, stream_path(job_id), headers={"Last-Event-ID": "5"})
    assert done.status == 204
    bad = acme.client.get(stream_path(job_id), headers={"Last-Event-ID": "x"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "Last-Event-ID"


def test_failed_and_cancelled_jobs_end_with_their_shapes(
    tenant: Callable[[str], Tenant], new_job: Callable[[int], str], sessions: sessionmaker[Session]
) -> None:
    acme = tenant("acme")
    failed, cancelled = new_job(acme.id), new_job(acme.id)
    now = utcnow().isoformat()
    log(sessions, failed, "failed", {"error": True, "message": "ValueError: no", "timestamp": now})
    log(sessions, cancelled, "cancelled", {"done": True, "status": "cancelled", "timestamp": now})

    [(seq, data)] = read_sse(acme.client, stream_path(failed)).events
    assert seq == 1
    assert data["error"] is True and data["message"] == "ValueError: no"
    assert data["timestamp"] == now and data["status"] == "failed" and data["done"] is True
    [(_, data)] = read_sse(acme.client, stream_path(cancelled)).events
    assert data == {"done": True, "status": "cancelled", "timestamp": now}


def test_a_live_stream_gets_events_as_they_are_logged_and_keep_alives_meanwhile(
    tenant: Callable[[str], Tenant], new_job: Callable[[int], str], sessions: sessionmaker[Session]
) -> None:
    acme = tenant("acme")
    job_id = new_job(acme.id)
    sent_at: dict[int, float] = {}
    received_at: dict[int, float] = {}

    def worker() -> None:
        for n in range(1, 4):
            time.sleep(1.0)  # longer than the heartbeat interval: keep-alives in between
            sent_at[n] = time.monotonic()
            log(sessions, job_id, "progress", {"percent": n * 25.0, "message": f"{n}/4"})
        time.sleep(0.3)
        log(sessions, job_id, "completed", {"done": True, "status": "completed"})

    def arrived(sse: Sse) -> None:
        seq = sse.events[-1][0]
        assert seq is not None
        received_at[seq] = time.monotonic()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        sse = read_sse(acme.client, stream_path(job_id), on_event=arrived)
    finally:
        thread.join()
    assert sse.ids == [1, 2, 3, 4] and sse.closed_by_server
    assert len(sse.comments) >= 4 and set(sse.comments) == {": keep-alive"}
    for n, at in sent_at.items():
        assert received_at[n] - at < 0.5, f"event {n} took {received_at[n] - at:.2f} s"


def test_streams_are_tenant_scoped_and_need_a_key_or_the_session_cookie(
    stream_api: str,
    tenant: Callable[[str], Tenant],
    new_job: Callable[[int], str],
    sessions: sessionmaker[Session],
) -> None:
    acme, globex = tenant("acme"), tenant("globex")
    job_id = new_job(acme.id)
    a_whole_run(sessions, job_id)

    for path in (stream_path(job_id), f"/sse-proxy/jobs/{job_id}/stream", stream_path("nope")):
        other = globex.client.get(path)
        assert other.status_code == 404, path
        assert other.json()["error"] == "not_found"
    assert httpx.get(stream_api + stream_path(job_id)).status_code == 401

    with httpx.Client(base_url=stream_api, timeout=10) as browser:
        assert browser.post("/api/v1/auth/login", json={"api_key": acme.key}).status_code == 200
        assert SESSION_COOKIE in browser.cookies
        assert read_sse(browser, stream_path(job_id)).ids == [1, 2, 3, 4, 5]


def test_open_streams_leave_the_database_to_other_requests(
    tenant: Callable[[str], Tenant], new_job: Callable[[int], str]
) -> None:
    """Idle streams poll in short transactions: with several open, other requests (a
    submission's transaction among them) still answer at once. A stream that kept its
    transaction, or the SQLite gate, between polls would block them all."""
    acme = tenant("acme")
    jobs = [new_job(acme.id) for _ in range(4)]
    stop = threading.Event()

    def listen(job_id: str) -> None:
        read_sse(acme.client, stream_path(job_id), stop=lambda _: stop.is_set(), timeout=60)

    listeners = [threading.Thread(target=listen, args=(j,)) for j in jobs]
    for thread in listeners:
        thread.start()
    try:
        time.sleep(1.0)  # the streams are open and polling
        slowest = 0.0
        for _ in range(10):
            started = time.monotonic()
            answer = acme.client.get(f"/api/v1/jobs/{jobs[0]}")
            slowest = max(slowest, time.monotonic() - started)
            assert answer.status_code == 200
        cancelled = acme.client.post(f"/api/v1/jobs/{jobs[1]}/cancel")
        assert cancelled.status_code == 200
    finally:
        stop.set()
        for thread in listeners:
            thread.join(10)
    assert slowest < 1.0, f"a request took {slowest:.2f} s next to open streams"
