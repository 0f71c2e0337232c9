"""The replaced pipeline's endpoints, exactly as its clients call them, against a real server
and a real worker on SQLite and PostgreSQL: ``POST /api/pipelines/trigger`` with a bearer key,
``GET /api/pipelines/{id}`` until ``COMPLETED``, the best rows; the tenant's default webhook
delivered (signed) to a real receiver when the job's results are stored; bad input named."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from typer.testing import CliRunner

from tradesweep.cli.main import app as cli
from tradesweep.notify import WebhookDispatcher, ensure_secret
from tradesweep.store import Job, JobStatus

Caller = Any
TRIGGER = "/api/pipelines/trigger"
REQUEST = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [20, 30],
    "step": 5,
    "min_trades": 50,
    "strategy_type": "SMA",
}
"""The pipeline client's request: 9 grid points, 8 valid (fast 20 / slow 20 is not)."""


def bearer(caller: Caller) -> httpx.Client:
    """The caller's key sent as the pipeline clients send it: ``Authorization: Bearer``."""
    return httpx.Client(
        base_url=str(caller.client.base_url),
        headers={"Authorization": f"Bearer {caller.key}"},
        timeout=30,
    )


def poll(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/pipelines/{job_id}").json()
        if body["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return body
        assert time.monotonic() < deadline, f"pipeline {job_id} did not finish: {body}"
        time.sleep(0.2)


def test_trigger_then_poll_until_completed_then_the_best_rows(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    with bearer(acme) as client:
        answer = client.post(TRIGGER, json=REQUEST)
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert set(body) == {"job_id", "status", "message", "webhook_url"}
        assert body["status"] == "QUEUED"
        assert body["webhook_url"] is None
        assert "8 combinations" in body["message"]
        job_id = body["job_id"]

        queued = client.get(f"/api/pipelines/{job_id}").json()
        assert queued["status"] == "QUEUED" and queued["results"] == []
        assert queued["metrics"] == {"duration_seconds": None, "combinations_tested": None}

        start_worker()
        done = poll(client, job_id)
        assert done["status"] == "COMPLETED", done
        assert done["id"] == job_id
        assert {k: done["parameters"][k] for k in REQUEST} == REQUEST
        assert done["metrics"]["combinations_tested"] == 8
        assert done["metrics"]["duration_seconds"] > 0
        rows = done["results"]
        assert rows, "nothing ranked: pick a request with ranked rows"
        for row in rows:
            assert {"fast_period", "slow_period", "sharpe_ratio", "total_return_pct"} <= set(row)
            assert row["fast_period"] < row["slow_period"]
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)

        best = acme.client.get(f"/api/v1/sweeps/{job_id}/best").json()["results"]
        assert rows == best  # the same rows as the v1 API's best
        job = acme.client.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "completed"  # the v1 API keeps its lower case


def test_the_tenants_default_webhook_is_called_when_the_results_are_stored(
    acme: Caller,
    db_url: str,
    sessions: sessionmaker[Session],
    start_worker: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADESWEEP_WEBHOOK_ALLOW_PRIVATE", "1")  # the receiver is on loopback
    received: list[tuple[dict[str, str], bytes]] = []
    receiver = _receiver(received)
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/pipeline"
    try:
        set_url = CliRunner().invoke(
            cli, ["webhooks", "url", "--tenant", "acme", url, "--url", db_url]
        )
        assert set_url.exit_code == 0, set_url.output
        assert set_url.stdout.strip() == url

        with bearer(acme) as client:
            answer = client.post(TRIGGER, json=REQUEST).json()
            assert answer["webhook_url"] == url  # the tenant's default
            own = client.post(TRIGGER, json={**REQUEST, "step": 10, "webhook_url": url + "/own"})
            assert own.json()["webhook_url"] == url + "/own"  # a request's own URL wins
            acme.client.post(f"/api/v1/jobs/{own.json()['job_id']}/cancel")
            start_worker()
            assert poll(client, answer["job_id"])["status"] == "COMPLETED"

        dispatcher = WebhookDispatcher(sessions, allow_private=True, concurrency=1)
        reports = dispatcher.deliver_due()
        assert {r.outcome.value for r in reports} == {"delivered"}, reports
        with sessions.begin() as s:
            secret = ensure_secret(s, acme.tenant_id)
    finally:
        receiver.shutdown()
        receiver.server_close()

    by_path = {headers["path"]: (headers, body) for headers, body in received}
    headers, body = by_path["/hooks/pipeline"]
    event = Webhook(secret).verify(body, headers)
    assert event["event_type"] == "sweep.completed"
    assert event["job_id"] == answer["job_id"]
    assert event["result_data"]["total_combinations"] == 8
    assert json.loads(body)["ticker"] == "GOOGL"
    assert "/hooks/pipeline/own" in by_path  # the cancelled one told its own URL


def _receiver(received: list[tuple[dict[str, str], bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            received.append(({**headers, "path": self.path}, body))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ticker": "NOPE"}, "ticker"),
        ({"fast_range": [20, 10]}, "fast_range"),
        ({"slow_range": [5, 8]}, "slow_range"),
        ({"step": 0}, "step"),
        ({"min_trades": -5}, "min_trades"),
        ({"strategy_type": "TURTLE"}, "strategy_type"),
        ({"fast_rnge": [10, 20]}, "fast_rnge"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    acme: Caller, change: dict[str, Any], field: str
) -> None:
    with bearer(acme) as client:
        answer = client.post(TRIGGER, json={**REQUEST, **change})
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert set(error) == {"error", "message", "details"}
    assert error["error"] == "validation_error"
    assert error["details"]["field"] == field
    assert field in error["message"]


def test_unknown_ids_other_tenants_and_other_job_types_are_404(
    acme: Caller, make_caller: Callable[[str], Caller]
) -> None:
    with bearer(acme) as client:
        job_id = client.post(TRIGGER, json=REQUEST).json()["job_id"]
        backtest = acme.client.post(
            "/api/v1/backtests", json={"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
        ).json()["job_id"]
        for missing in ("no-such-job", backtest):
            answer = client.get(f"/api/pipelines/{missing}")
            assert answer.status_code == 404
            assert answer.json()["error"] == "not_found"
            assert answer.json()["details"]["field"] == "job_id"
    other = make_caller("globex")
    assert other.client.get(f"/api/pipelines/{job_id}").status_code == 404
    anonymous = httpx.post(f"{acme.client.base_url}{TRIGGER}", json=REQUEST)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
    wrong = httpx.post(
        f"{acme.client.base_url}{TRIGGER}",
        json=REQUEST,
        headers={"Authorization": "Bearer ts_nope_nope"},
    )
    assert wrong.status_code == 401


def test_a_failed_job_is_failed_with_its_error(
    acme: Caller, sessions: sessionmaker[Session]
) -> None:
    with bearer(acme) as client:
        job_id = client.post(TRIGGER, json=REQUEST).json()["job_id"]
        with sessions.begin() as s:
            job = s.get(Job, job_id)
            assert job is not None
            job.status, job.error = JobStatus.FAILED, "no data for ticker 'GOOGL'"
        failed = client.get(f"/api/pipelines/{job_id}").json()
    assert failed["status"] == "FAILED" and failed["error"] == "no data for ticker 'GOOGL'"
    assert failed["results"] == []
