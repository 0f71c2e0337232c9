"""``GET /api/v1/jobs/{id}/deliveries``: every webhook delivery of a job with each attempt,
as the real dispatcher recorded them against a real receiver on 127.0.0.1 (a 500, then a
200), never the receiver's response bodies, and only for the job's own tenant. SQLite and
PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.notify import DeliveryRetryPolicy, WebhookDispatcher
from tradesweep.store import JobRepository, JobStatus, JobType, OutboxRepository
from tradesweep.store.types import utcnow

Caller = Any
BODY_MARK = "RECEIVER-BODY-NEVER-SHOWN"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[int]]]:
    """A receiver answering 500 then 200, each with a body the API must never show."""
    statuses = [500, 200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = statuses.pop(0) if statuses else 200
            body = f"{BODY_MARK} {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", statuses
    finally:
        server.shutdown()
        server.server_close()


def finished_job(sessions: sessionmaker[Session], tenant_id: int, webhook_url: str | None) -> str:
    """A completed sweep job with its outbox row, as a worker writes them."""
    with sessions.begin() as s:
        job = (
            JobRepository(s)
            .create(tenant_id, JobType.SWEEP, {"spec": {}}, ticker="GOOGL", webhook_url=webhook_url)
            .job
        )
        job.status, job.started_at, job.completed_at = JobStatus.COMPLETED, utcnow(), utcnow()
        job.result = {"sweep_run_id": "run-1", "total_combinations": 4}
        job.metrics = {"duration_seconds": 0.5}
        s.flush()
        OutboxRepository(s).enqueue_for_job(job)
        return job.id


def test_deliveries_list_every_attempt_without_bodies_for_the_owner_only(
    make_caller: Callable[[str], Caller],
    sessions: sessionmaker[Session],
    receiver: tuple[str, list[int]],
) -> None:
    acme, globex = make_caller("acme"), make_caller("globex")
    url, _ = receiver
    job_id = finished_job(sessions, acme.tenant_id, url)
    dispatcher = WebhookDispatcher(
        sessions, allow_private=True, policy=DeliveryRetryPolicy(schedule=(0.0,), jitter=0.0)
    )
    assert [r.status_code for r in dispatcher.deliver_due()] == [500]
    assert [r.status_code for r in dispatcher.deliver_due()] == [200]

    answer = acme.client.get(f"/api/v1/jobs/{job_id}/deliveries")
    assert answer.status_code == 200, answer.text
    assert BODY_MARK not in answer.text
    body = answer.json()
    assert body["job_id"] == job_id
    [delivery] = body["deliveries"]
    assert delivery["webhook_id"].startswith("msg_") and delivery["url"] == url
    assert delivery["event_type"] == "sweep.completed"
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    assert delivery["delivered_at"] is not None and delivery["next_attempt_at"] is None
    log = delivery["attempt_log"]
    assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 500), (2, 200)]
    assert log[0]["error"] == "HTTP 500" and log[1]["error"] is None
    assert all(a["duration_ms"] is not None and a["attempted_at"] for a in log)

    assert globex.client.get(f"/api/v1/jobs/{job_id}/deliveries").status_code == 404
    missing = acme.client.get("/api/v1/jobs/no-such-job/deliveries")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_a_job_without_a_webhook_or_not_finished_has_no_delivery(
    make_caller: Callable[[str], Caller], sessions: sessionmaker[Session]
) -> None:
    acme = make_caller("acme")
    silent = finished_job(sessions, acme.tenant_id, None)
    assert acme.client.get(f"/api/v1/jobs/{silent}/deliveries").json()["deliveries"] == []
    with sessions.begin() as s:
        queued = (
            JobRepository(s)
            .create(acme.tenant_id, JobType.SWEEP, {}, webhook_url="https://example.com/h")
            .job.id
        )
    assert acme.client.get(f"/api/v1/jobs/{queued}/deliveries").json()["deliveries"] == []
