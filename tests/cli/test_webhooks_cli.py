"""``tradesweep webhooks secret`` and ``tradesweep webhooks deliver`` through the real app,
with a real receiver on 127.0.0.1 that verifies signatures."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import structlog
from sqlalchemy import update
from standardwebhooks import Webhook
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.store import (
    Job,
    JobRepository,
    JobStatus,
    JobType,
    OutboxRepository,
    TenantRepository,
    make_engine,
    session_factory,
)
from tradesweep.store.types import utcnow


class Receiver:
    """Answers 200 to every POST and keeps (headers, body)."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, str], bytes]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRADESWEEP_DATABASE_URL", url)
    monkeypatch.delenv("TRADESWEEP_WEBHOOK_ALLOW_PRIVATE", raising=False)
    monkeypatch.setenv("TRADESWEEP_LOG_FORMAT", "json")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    yield url
    root.handlers[:] = handlers  # `deliver` configures logging on CliRunner's stderr
    root.setLevel(level)
    structlog.reset_defaults()


def _finished_job(url: str, webhook_url: str, tenant: str = "acme") -> str:
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as s:
            owner = TenantRepository(s).get_or_create(tenant)
            job = JobRepository(s).create(owner.id, JobType.SWEEP, {}, webhook_url=webhook_url).job
        with sessions.begin() as s:
            s.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(status=JobStatus.COMPLETED, completed_at=utcnow(), result={})
            )
            done = s.get(Job, job.id, populate_existing=True)
            OutboxRepository(s).enqueue_for_job(done)  # type: ignore[arg-type]
        return job.id
    finally:
        engine.dispose()


def test_secret_is_created_once_shown_again_and_rotated(db: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "create", "--tenant", "acme"]).exit_code == 0
    first = runner.invoke(app, ["webhooks", "secret", "--tenant", "acme"])
    assert first.exit_code == 0, first.output
    secret = first.stdout.strip()
    assert secret.startswith("whsec_") and len(secret) > 40
    assert "standardwebhooks" in first.stderr
    again = runner.invoke(app, ["webhooks", "secret", "--tenant", "acme", "--url", db])
    assert again.stdout.strip() == secret
    rotated = runner.invoke(app, ["webhooks", "secret", "--tenant", "acme", "--rotate"])
    assert rotated.exit_code == 0
    assert rotated.stdout.strip().startswith("whsec_") and rotated.stdout.strip() != secret


def test_secret_for_an_unknown_tenant_is_a_one_line_error(db: str) -> None:
    result = CliRunner().invoke(app, ["webhooks", "secret", "--tenant", "nobody"])
    assert result.exit_code == 2
    assert "no tenant 'nobody'" in result.stderr and "keys create" in result.stderr


def test_deliver_once_sends_a_verifiable_webhook(
    db: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _finished_job(db, receiver.url)
    runner = CliRunner()
    refused = runner.invoke(app, ["webhooks", "deliver", "--once"])
    assert refused.exit_code == 0, refused.output
    assert refused.stdout.strip() == "1 refused"  # loopback, TRADESWEEP_WEBHOOK_ALLOW_PRIVATE unset
    assert receiver.seen == []

    monkeypatch.setenv("TRADESWEEP_WEBHOOK_ALLOW_PRIVATE", "1")
    _finished_job(db, receiver.url)  # a second one, due now (the first waits for its retry)
    sent = runner.invoke(app, ["webhooks", "deliver", "--once"])
    assert sent.stdout.strip() == "1 delivered"
    secret = runner.invoke(app, ["webhooks", "secret", "--tenant", "acme"]).stdout.strip()
    headers, body = receiver.seen[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["event_type"] == "sweep.completed" and payload["job_id"] != job_id

    assert runner.invoke(app, ["webhooks", "deliver", "--once"]).stdout.strip() == "nothing due"


def test_deliver_once_prints_its_summary_and_no_library_noise(db: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tradesweep", "webhooks", "deliver", "--once"],
        env={**os.environ, "TRADESWEEP_LOG_FORMAT": "console"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "nothing due\n"
    assert "alembic" not in done.stderr, done.stderr  # the revision check says nothing


def test_deliver_runs_until_sigterm(db: str, receiver: Receiver) -> None:
    _finished_job(db, receiver.url)
    env = {**os.environ, "TRADESWEEP_WEBHOOK_ALLOW_PRIVATE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tradesweep", "webhooks", "deliver", "--poll-interval", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not receiver.seen and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert receiver.seen, "the loop delivered nothing"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    # Every stderr line is JSON (TRADESWEEP_LOG_FORMAT=json), library lines included.
    events = [json.loads(line)["event"] for line in stderr.splitlines()]
    started = events.index("webhook_dispatcher_started")
    assert started < events.index("webhook_attempt") < events.index("webhook_dispatcher_stopped")
