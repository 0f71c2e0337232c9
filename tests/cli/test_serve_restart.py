"""``tradesweep serve`` restarts its worker child when it dies (SIGKILL here), with a capped
exponential backoff, logging each restart; meanwhile ``/health`` says ``degraded`` because
queued work has no live worker, and the restarted worker then runs the job. Real processes,
SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradesweep.cli.serve import Backoff

Serve = Any
DEADLINE_SECONDS = 120


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc, no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def worker_pid(served: Serve) -> int:
    """The pid of serve's worker child, once its process exists."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        for pid in children(served.process.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"worker" in cmdline:
                return pid
        time.sleep(0.05)
    raise AssertionError("serve has no worker child")


def health(client: httpx.Client, **headers: str) -> dict[str, Any]:
    return client.get("/health", headers=headers).json()  # type: ignore[no-any-return]


def wait_for(check: Callable[[], bool], what: str, served: Serve) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            output = "".join(served.stdout[-40:]) + "".join(served.stderr[-40:])
            raise AssertionError(f"timed out waiting until {what}:\n{output}")
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_worker_is_restarted_and_health_is_degraded_meanwhile(
    backend: str, run_serve: Callable[..., Serve], fresh_database: Callable[[str], str]
) -> None:
    served = run_serve(
        database_url=fresh_database(backend) if backend == "postgresql" else None,
        workers=1,
        # The first wait before a restart: long enough to see /health degraded in between.
        env={"TRADESWEEP_WORKER_RESTART_SECONDS": "3"},
    )
    with served.client() as client, httpx.Client(base_url=served.url, timeout=30) as anyone:
        key = {"X-API-Key": served.key}

        def worker_alive() -> bool:
            return health(anyone, **key)["checks"]["workers"]["alive"] == 1  # type: ignore[no-any-return]

        wait_for(worker_alive, "a worker is up", served)
        first = worker_pid(served)
        os.kill(first, signal.SIGKILL)

        queued = client.post(
            "/api/v1/backtests", json={"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
        )
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["job_id"]
        wait_for(lambda: health(anyone)["status"] == "degraded", "/health is degraded", served)
        detailed = health(anyone, **key)
        assert detailed["checks"]["workers"]["alive"] == 0
        assert detailed["checks"]["queue_depth"] + detailed["checks"]["workers"]["running_jobs"]

        def completed() -> bool:
            return client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "completed"

        wait_for(completed, "the restarted worker completed the job", served)
        assert worker_pid(served) != first
        assert health(anyone) == {"status": "healthy"}
    output = "".join(served.stdout) + "".join(served.stderr)
    assert "worker_restart" in output and str(first) in output


def test_the_backoff_doubles_to_its_cap_and_starts_again_after_a_stable_run() -> None:
    backoff = Backoff(first=1.0, cap=30.0, stable=60.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.failures(previous=5, uptime=59.0) == 6
    assert backoff.failures(previous=5, uptime=60.0) == 1
