"""An SSE client against a real ``tradesweep serve`` (API + worker processes) while a sweep
runs: it reads a few events, hangs up mid-sweep, reconnects with ``Last-Event-ID`` and reads
to the end. The ids it saw are 1..N with no gap and no duplicate, N is the job's last stored
event, the last event is the completion; the server noticed the hang-up (the stream request
was counted as ended while the sweep still ran); a finished job's stream sends everything
and closes, and a client holding the final id gets 204. SQLite and PostgreSQL.

The sweep is ``tests/jobs/plugins/slow/slow_probe.py`` (every combination sleeps), queued
straight into serve's database for the tenant serve created (the API only takes built-in
strategies)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tradesweep.store import (
    Job,
    JobRepository,
    JobType,
    TenantRepository,
    make_engine,
    session_factory,
)

SLOW = str(Path(__file__).parents[1] / "jobs" / "plugins" / "slow" / "slow_probe.py")
STREAM_ROUTE = "/api/v1/jobs/{job_id}/stream"

Serve = Any


def queue_slow_sweep(database_url: str, combinations: int, delay: float) -> str:
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            tenant = TenantRepository(session).get_or_create("default")
            spec = {
                "data": "GOOGL",
                "strategy": SLOW,
                "ranges": {"n": f"1:{combinations}:1", "delay": delay},
            }
            return (
                JobRepository(session)
                .create(tenant.id, JobType.SWEEP, {"spec": spec, "request": {}}, ticker="GOOGL")
                .job.id
            )
    finally:
        engine.dispose()


def stored_events(database_url: str, job_id: str) -> tuple[str, int]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job.status.value, len(JobRepository(session).events_after(job_id))
    finally:
        engine.dispose()


def read(
    client: httpx.Client, job_id: str, *, last_id: int | None = None, events_wanted: int = 0
) -> tuple[int, list[tuple[int, dict[str, Any]]], int, bool]:
    """(status, [(id, data)], keep-alives, closed by the server); hangs up after
    ``events_wanted`` events when that is above 0."""
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
    events: list[tuple[int, dict[str, Any]]] = []
    keep_alives, seq = 0, 0
    with client.stream("GET", f"/api/v1/jobs/{job_id}/stream", headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, events, 0, True
        for line in response.iter_lines():
            if line == ": keep-alive":
                keep_alives += 1
            elif line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: "):
                events.append((seq, json.loads(line[6:])))
                if events_wanted and len(events) >= events_wanted:
                    return 200, events, keep_alives, False
    return 200, events, keep_alives, True


def streams_ended(client: httpx.Client, served: Serve) -> float:
    """Stream requests this server has finished (the middleware counts a request when its
    response has ended)."""
    token = (served.data_dir / "metrics-token").read_text().strip()  # made by serve
    text = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    for family in text_string_to_metric_families(text):
        if family.name == "pipeline_trading_http_requests":
            return sum(
                s.value
                for s in family.samples
                if s.name.endswith("_total") and s.labels["route"] == STREAM_ROUTE
            )
    return 0.0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_client_that_hangs_up_mid_sweep_and_resumes_misses_nothing(
    backend: str, run_serve: Callable[..., Serve], fresh_database: Callable[[str], str]
) -> None:
    served = run_serve(
        database_url=fresh_database(backend) if backend == "postgresql" else None,
        env={"TRADESWEEP_SSE_POLL_SECONDS": "0.2", "TRADESWEEP_SSE_HEARTBEAT_SECONDS": "0.5"},
    )
    job_id = queue_slow_sweep(served.database_url, combinations=60, delay=0.1)
    with served.client() as client:
        status, first, _, closed = read(client, job_id, events_wanted=3)
        assert status == 200 and not closed
        assert [seq for seq, _ in first] == [1, 2, 3]
        assert not any(data.get("done") for _, data in first), "the sweep ended too soon"

        # The server notices the hang-up and ends that stream while the sweep goes on.
        deadline = time.monotonic() + 10
        while streams_ended(client, served) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert streams_ended(client, served) == 1
        time.sleep(1.0)  # events keep coming while nobody listens
        assert stored_events(served.database_url, job_id)[0] == "running"

        status, rest, _, closed = read(client, job_id, last_id=first[-1][0])
        assert status == 200 and closed
        ids = [seq for seq, _ in first + rest]
        job_status, stored = stored_events(served.database_url, job_id)
        assert job_status == "completed"
        assert ids == list(range(1, stored + 1)), ids  # no gap, no duplicate, nothing missed
        assert stored >= 6 and len(rest) >= 3
        final = rest[-1][1]
        assert final["done"] is True and final["status"] == "completed"
        assert final["sweep_run_id"]
        progress = [d for _, d in first + rest if "percent" in d]
        assert progress[-1]["percent"] == 100.0
        evaluating = [d for d in progress if d.get("phase") == "evaluating"]
        assert evaluating[-1]["message"] == "Processing 60/60"
        assert progress[-1]["phase"] == "storing results"  # then the final event

        # A finished job: everything, then the stream closes; the final id: 204.
        status, again, _, closed = read(client, job_id)
        assert closed and [seq for seq, _ in again] == ids
        assert read(client, job_id, last_id=stored)[0] == 204


@pytest.mark.slow
def test_keep_alives_arrive_on_a_quiet_stream(run_serve: Callable[..., Serve]) -> None:
    served = run_serve(workers=0, env={"TRADESWEEP_SSE_HEARTBEAT_SECONDS": "0.3"})
    job_id = queue_slow_sweep(served.database_url, combinations=2, delay=0.0)  # no worker
    with served.client() as client:
        response_lines: list[str] = []
        started = time.monotonic()
        with client.stream("GET", f"/sse-proxy/jobs/{job_id}/stream") as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                response_lines.append(line)
                if response_lines.count(": keep-alive") == 4:
                    break
        elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5, elapsed
    assert not any(line.startswith("data:") for line in response_lines)


@pytest.mark.slow
def test_sigterm_ends_open_streams_so_serve_stops_at_once(run_serve: Callable[..., Serve]) -> None:
    """An open stream must not hold serve's graceful shutdown up: it ends, the client may
    reconnect elsewhere with Last-Event-ID."""
    served = run_serve(workers=0)
    job_id = queue_slow_sweep(served.database_url, combinations=2, delay=0.0)  # no worker
    ended: list[str] = []

    def listen() -> None:
        with (
            served.client() as client,
            client.stream("GET", f"/api/v1/jobs/{job_id}/stream") as response,
        ):
            try:
                for _ in response.iter_lines():
                    pass
                ended.append("closed")
            except httpx.HTTPError as exc:
                ended.append(type(exc).__name__)

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(1.0)  # the stream is open
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(30) == 0
    assert time.monotonic() - started < 5, "an open stream held the shutdown up"
    listener.join(10)
    assert ended == ["closed"]
