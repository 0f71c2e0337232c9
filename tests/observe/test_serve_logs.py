"""The logs of a real ``tradesweep serve`` (API, worker child, webhook dispatcher) with
``TRADESWEEP_LOG_FORMAT=json``: every stderr line is a JSON object; each request's
``http_request`` line carries its ``request_id`` (the caller's ``X-Request-ID`` when given),
its route template and, once authenticated, its ``tenant``; the worker's lines about a job
carry its ``job_id``; and neither the API key (sent in headers and in a login body), nor the
tenant's webhook secret, nor a webhook body ever appears."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
Serve = Any


@pytest.fixture
def receiver() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every stderr line as JSON: no exception (Python's multiprocessing resource tracker, a
    process no logging set-up reaches, has no leaked semaphore to warn about either)."""
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    return parsed


@pytest.mark.slow
def test_serve_logs_json_lines_with_request_and_job_ids_and_no_secrets(
    run_serve: Callable[..., Serve], receiver: str
) -> None:
    served = run_serve(
        env={"TRADESWEEP_LOG_FORMAT": "json", "TRADESWEEP_WEBHOOK_ALLOW_PRIVATE": "1"}
    )
    secret = subprocess.run(
        [TRADESWEEP, "webhooks", "secret", "--tenant", "default"],
        env={"TRADESWEEP_DATABASE_URL": served.database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    sweep = {
        "ticker": "GOOGL",
        "fast_range": [10, 20],
        "slow_range": [30, 40],
        "step": 5,
        "min_trades": 10,
        "webhook_url": receiver,
    }
    with served.client() as client:
        submitted = client.post(
            "/api/v1/strategy/sweep", json=sweep, headers={"X-Request-ID": "trace-42"}
        )
        assert submitted.status_code == 202, submitted.text
        assert submitted.headers["x-request-id"] == "trace-42"
        job_id = submitted.json()["job_id"]
        bearer = {"Authorization": f"Bearer {served.key}"}
        assert httpx.get(f"{served.url}/api/v1/jobs", headers=bearer).status_code == 200
        login = httpx.post(f"{served.url}/api/v1/auth/login", json={"api_key": served.key})
        assert login.status_code == 200
        wrong = httpx.get(f"{served.url}/api/v1/jobs", headers={"X-API-Key": served.key + "x"})
        assert wrong.status_code == 401
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            deliveries = client.get(f"/api/v1/jobs/{job_id}/deliveries").json()["deliveries"]
            if deliveries and deliveries[0]["status"] == "delivered":
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the webhook was not delivered")
    served.process.send_signal(signal.SIGTERM)  # serve alone: it stops its worker itself
    assert served.process.wait(60) == 0
    served.stop()  # the output readers finish

    text = "".join(served.stderr)
    lines = json_lines(text)
    assert served.key not in text and served.key[:-4] not in text
    assert secret.startswith("whsec_") and secret not in text
    assert "result_data" not in text  # the webhook body
    assert "color_message" not in text and "\x1b[" not in text  # uvicorn's coloured copy
    assert not [line for line in lines if line["logger"].startswith("alembic.")]

    requests = [line for line in lines if line["event"] == "http_request"]
    assert requests and all(len(r["request_id"]) >= 8 for r in requests)
    [submit] = [r for r in requests if r["request_id"] == "trace-42"]
    assert submit["route"] == "/api/v1/strategy/sweep" and submit["status"] == 202
    assert submit["tenant"] == "default" and submit["level"] == "info"
    assert len({r["request_id"] for r in requests}) == len(requests)
    unauthorised = [r for r in requests if r["status"] == 401]
    assert unauthorised and "tenant" not in unauthorised[0]

    about_the_job = [line for line in lines if line.get("job_id") == job_id]
    loggers = {line["logger"] for line in about_the_job}
    assert "tradesweep.jobs.worker" in loggers, loggers  # the worker process
    assert "tradesweep.notify.dispatcher" in loggers, loggers  # the dispatcher thread
    assert any("completed" in line["event"] for line in about_the_job)
