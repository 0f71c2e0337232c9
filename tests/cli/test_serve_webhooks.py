"""Webhooks delivered by ``tradesweep serve`` itself (its dispatcher thread), end to end: a
real receiver on 127.0.0.1 verifies each request with ``standardwebhooks`` and the secret
``tradesweep webhooks secret --tenant default`` prints, answers 503 once on purpose, then 200.
A sweep submitted over HTTP ends as ``sweep.completed`` with the documented body, the retry
keeps the webhook-id, ``/api/v1/jobs/{id}/deliveries`` shows both attempts; a sweep that
fails ends as ``sweep.failed``. Without ``TRADESWEEP_WEBHOOK_ALLOW_PRIVATE`` a loopback
``webhook_url`` is refused at submission (422 naming it)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tradesweep.data import DatasetRegistry, load_sample

TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
SWEEP = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [30, 40],
    "step": 5,
    "min_trades": 10,
    "strategy_type": "SMA",
}
Serve = Any


@dataclass
class Receiver:
    """Verifies every request; the first ``sweep.completed`` gets 503 on purpose."""

    secret: str | None = None
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        assert self.secret is not None, "the test sets the secret before submitting"
        try:
            payload = Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            self.refused.append(str(exc))
            return 400
        self.received.append((headers, payload))
        first_completion = payload["event_type"] == "sweep.completed" and (
            len(self.by_event("sweep.completed")) == 1
        )
        return 503 if first_completion else 200

    def by_event(self, event_type: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(h, p) for h, p in self.received if p["event_type"] == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = state.handle(headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sweep"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def tenant_secret(served: Serve) -> str:
    env = {"TRADESWEEP_DATABASE_URL": served.database_url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [TRADESWEEP, "webhooks", "secret", "--tenant", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1].strip()
    assert secret.startswith("whsec_"), done.stdout
    return secret


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return value


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_serve_delivers_signed_webhooks_for_completed_and_failed_sweeps(
    backend: str,
    run_serve: Callable[..., Serve],
    fresh_database: Callable[[str], str],
    receiver: Receiver,
) -> None:
    served = run_serve(
        database_url=fresh_database(backend) if backend == "postgresql" else None,
        env={"TRADESWEEP_WEBHOOK_ALLOW_PRIVATE": "1"},
    )
    receiver.secret = tenant_secret(served)
    # A ticker whose data file is gone: accepted (it is registered), fails in the worker.
    registry = DatasetRegistry(served.data_dir)
    broken = registry.register_frame(load_sample("GOOGL").iloc[:300], "BROKEN")
    assert broken.file is not None
    (served.data_dir / broken.file).unlink()

    with served.client() as client:
        good = client.post("/api/v1/strategy/sweep", json={**SWEEP, "webhook_url": receiver.url})
        assert good.status_code == 202, good.text
        job_id = good.json()["job_id"]
        bad = client.post(
            "/api/v1/strategy/sweep",
            json={**SWEEP, "ticker": "BROKEN", "webhook_url": receiver.url},
        )
        assert bad.status_code == 202, bad.text
        failed_id = bad.json()["job_id"]

        # The first attempt got 503 on purpose; the retry (5 s later) is delivered.
        wait_for(lambda: len(receiver.by_event("sweep.completed")) >= 2, 90, "sweep.completed")
        wait_for(lambda: receiver.by_event("sweep.failed"), 90, "sweep.failed")
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        deliveries = wait_for(
            lambda: [
                d
                for d in client.get(f"/api/v1/jobs/{job_id}/deliveries").json()["deliveries"]
                if d["status"] == "delivered"
            ],
            30,
            "the delivery to be recorded",
        )
    assert receiver.refused == []  # every request carried a valid signature

    (first_headers, first), (retry_headers, payload) = receiver.by_event("sweep.completed")[:2]
    assert first_headers["webhook-id"] == retry_headers["webhook-id"]
    assert first == payload
    run_id = job["result"]["sweep_run_id"]
    assert payload == {
        "event_type": "sweep.completed",
        "job_id": job_id,
        "sweep_run_id": run_id,
        "status": "completed",
        "ticker": "GOOGL",
        "result_data": {
            "sweep_run_id": run_id,
            "total_combinations": job["result"]["total_combinations"],
            "execution_time_seconds": job["metrics"]["duration_seconds"],
            "completed_at": payload["timestamp"],
        },
        "timestamp": payload["timestamp"],
    }
    [delivery] = deliveries
    assert delivery["webhook_id"] == first_headers["webhook-id"]
    assert delivery["event_type"] == "sweep.completed" and delivery["attempts"] == 2
    codes = [a["status_code"] for a in delivery["attempt_log"]]
    assert codes == [503, 200]

    [(_, failure)] = receiver.by_event("sweep.failed")
    assert failure["job_id"] == failed_id and failure["status"] == "failed"
    assert failure["ticker"] == "BROKEN" and failure["error_message"]
    assert set(failure) == {
        "event_type",
        "job_id",
        "status",
        "ticker",
        "error_message",
        "timestamp",
    }


@pytest.mark.slow
def test_a_loopback_webhook_url_is_refused_unless_private_receivers_are_allowed(
    run_serve: Callable[..., Serve], receiver: Receiver
) -> None:
    served = run_serve(workers=0)
    with served.client() as client:
        refused = client.post("/api/v1/strategy/sweep", json={**SWEEP, "webhook_url": receiver.url})
        metadata = client.post(
            "/api/v1/strategy/sweep",
            json={**SWEEP, "webhook_url": "http://169.254.169.254/latest"},
        )
        public = client.post(
            "/api/v1/strategy/sweep", json={**SWEEP, "webhook_url": "https://hooks.example.com/x"}
        )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["details"]["field"] == "webhook_url"
    assert "loopback" in body["message"] and "TRADESWEEP_WEBHOOK_ALLOW_PRIVATE" in body["message"]
    assert metadata.status_code == 422 and "metadata" in json.dumps(metadata.json())
    assert public.status_code == 202
    assert receiver.received == []  # nothing was ever sent
