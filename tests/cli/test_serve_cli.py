"""``tradesweep serve`` and ``make run`` as real processes: the API on a free loopback port,
its worker child, the first key, shutdown, and a sweep submitted over HTTP whose best rows
equal what ``tradesweep sweep`` prints for the same request (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradesweep.data import DatasetRegistry, load_sample
from tradesweep.store import upgrade_database

from ..servers import free_port

REPO = Path(__file__).resolve().parents[2]
TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
KEY = re.compile(r"\b(ts_[a-z0-9]{8}_[A-Za-z0-9_-]+)")
URL = re.compile(r"(http://127\.0\.0\.1:\d+) ")
START_SECONDS = 90


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    key: str | None
    lines: list[str]


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env["TRADESWEEP_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        env["TRADESWEEP_DATABASE_URL"] = database_url
    return env


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM the whole process group (serve and its worker), SIGKILL what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        except subprocess.TimeoutExpired:
            pass
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


@contextmanager
def serving(command: list[str], env: dict[str, str], cwd: Path = REPO) -> Iterator[Served]:
    """Start ``command`` in its own process group, read stdout until the URL and the key line
    (or 'keys exist') are printed and /health answers; always stopped afterwards."""
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    pending: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            pending.put(line)
        pending.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        url, key = None, None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                line = pending.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("serve exited early:\n" + "".join(lines))
            url = url or (m.group(1) if (m := URL.search(line)) else None)
            if url and "API key" in line:  # log lines before the URL may say "API keys"
                key = (
                    (m.group(1) if (m := KEY.search(line)) else None)
                    if "exist" not in line
                    else None
                )
                break
        assert url is not None, "".join(lines)
        _wait_healthy(url, deadline, lines)
        yield Served(process, url, key, lines)
    finally:
        _stop(process)
        reader.join(10)
        assert process.stdout is not None
        process.stdout.close()


def _wait_healthy(url: str, deadline: float, lines: list[str]) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("no /health:\n" + "".join(lines))


def _wait_for_status(served: Served, status: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if httpx.get(f"{served.url}/health", timeout=5).json()["status"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"/health never said {status}:\n" + "".join(served.lines))


def _serve(port: int, workers: int) -> list[str]:
    return [TRADESWEEP, "serve", "--port", str(port), "--concurrency", str(workers)]


def test_first_start_prints_the_url_and_a_key_later_starts_do_not(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", None)
    port = free_port()
    with serving(_serve(port, 0), env) as served:
        assert served.url == f"http://127.0.0.1:{port}"
        assert served.key is not None and served.key.startswith("ts_")
        me = httpx.get(f"{served.url}/api/v1/auth/me", headers={"X-API-Key": served.key})
        assert me.status_code == 200 and me.json()["tenant"] == "default"
        assert httpx.get(f"{served.url}/api/v1/jobs").status_code == 401
        assert "workers: none" in "".join(served.lines)
    assert (tmp_path / "data" / "tradesweep.db").is_file()  # SQLite made and migrated

    with serving(_serve(free_port(), 0), env) as again:
        assert again.key is None
        assert "API keys exist already" in "".join(again.lines)
        first_key = served.key
        ok = httpx.get(f"{again.url}/api/v1/jobs", headers={"X-API-Key": first_key})
        assert ok.status_code == 200


def test_with_no_worker_anywhere_health_and_submissions_say_so(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", None)
    with serving(_serve(free_port(), 0), env) as served:
        assert served.key is not None
        key = {"X-API-Key": served.key}
        assert httpx.get(f"{served.url}/health").json() == {"status": "degraded"}
        checks = httpx.get(f"{served.url}/health", headers=key).json()["checks"]
        assert checks["workers"]["alive"] == 0
        assert "no live worker" in checks["workers"]["message"]
        body = {"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
        queued = httpx.post(f"{served.url}/api/v1/backtests", json=body, headers=key)
        assert queued.status_code == 202, queued.text
        assert queued.json()["estimated_duration_seconds"] is None
        assert "no worker is consuming the queue" in " ".join(queued.json()["warnings"])

        # a worker started elsewhere (the same database) consumes the queue: no warning then
        worker = subprocess.Popen(
            [TRADESWEEP, "worker", "--concurrency", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for_status(served, "healthy")
            again = httpx.post(f"{served.url}/api/v1/backtests", json=body, headers=key).json()
            assert again["warnings"] == [] and again["estimated_duration_seconds"] > 0
            job = httpx.get(f"{served.url}/api/v1/jobs/{queued.json()['job_id']}", headers=key)
            assert job.status_code == 200
        finally:
            _stop(worker)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_the_api_and_the_worker(tmp_path: Path) -> None:
    with serving(_serve(free_port(), 1), _env(tmp_path / "data", None)) as served:
        deadline = time.monotonic() + 30
        while not (workers := _children(served.process.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers, "no worker child process"
        served.process.send_signal(signal.SIGTERM)  # serve only, not its group
        assert served.process.wait(30) == 0
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers)


def test_a_port_in_use_is_refused_with_a_hint(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            _serve(port, 0),
            env=_env(tmp_path / "data", None),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_an_unmigrated_postgresql_database_is_refused(
    tmp_path: Path, fresh_database: Callable[[str], str]
) -> None:
    url = fresh_database("postgresql")
    done = subprocess.run(
        _serve(free_port(), 0),
        env=_env(tmp_path / "data", url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "tradesweep db upgrade" in done.stderr


def test_make_run_starts_the_service_and_prints_the_url_and_a_key(tmp_path: Path) -> None:
    port = free_port()
    # -o: the venv is already installed here; a fresh clone's `make run` installs it first.
    command = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed-service",
        "run",
        f"PORT={port}",
    ]
    with serving(command, _env(tmp_path / "data", None)) as served:
        assert served.url == f"http://127.0.0.1:{port}"
        assert served.key is not None
        # degraded until serve's worker child has registered, then healthy
        _wait_for_status(served, "healthy")
        # the checks are for callers with a key (or the metrics token)
        health = httpx.get(f"{served.url}/health", headers={"X-API-Key": served.key}).json()
        assert health["checks"]["database"]["backend"] == "sqlite"


# ---- end to end ---------------------------------------------------------------------------

FORM = {
    "ticker": "BTC-USD",
    "fast_range": ["10", "20"],
    "slow_range": ["20", "30"],
    "step": "5",
    "min_trades": "50",
    "strategy_type": "SMA",
    "config_path": "minimum",
}
CLI_SWEEP = [
    "sweep",
    "--data", "BTC-USD",
    "--strategy", "sma_crossover",
    "--range", "fast=10:20:5",
    "--range", "slow=20:30:5",
    "--min-trades", "50",
    "--preset", "minimum",
    "--json",
    "--no-progress",
]  # fmt: skip
BEST_METRICS = (
    "sharpe_ratio",
    "sortino_ratio",
    "total_return_pct",
    "max_drawdown_pct",
    "win_rate_pct",
    "profit_factor",
    "total_trades",
    "trades_per_month",
)


def _poll(client: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sweep_over_http_equals_the_cli(
    backend: str, tmp_path: Path, fresh_database: Callable[[str], str]
) -> None:
    data_dir = tmp_path / "data"
    DatasetRegistry(data_dir).register_frame(load_sample("GOOGL"), "BTC-USD")
    url = fresh_database(backend)
    if backend == "postgresql":
        upgrade_database(url)
    env = _env(data_dir, url)

    cli = subprocess.run(
        [TRADESWEEP, *CLI_SWEEP], env=env, capture_output=True, text=True, timeout=300
    )
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)["results"]
    assert printed, "the CLI ranked nothing: pick a request with ranked rows"

    with serving(_serve(free_port(), 1), env) as served:
        assert served.key is not None
        with httpx.Client(
            base_url=served.url, headers={"X-API-Key": served.key}, timeout=30
        ) as client:
            submitted = client.post("/api/v1/strategy/sweep", data=FORM)
            assert submitted.status_code == 202, submitted.text
            job = _poll(client, submitted.json()["job_id"])
            assert job["status"] == "completed", job
            assert job["progress"]["percent"] == 100.0
            run_id = job["result"]["sweep_run_id"]
            best = client.get(f"/api/v1/sweeps/{run_id}/best", params={"ticker": "BTC-USD"})
    assert best.status_code == 200, best.text
    rows = best.json()["results"]
    assert len(rows) == len(printed)
    for got, want in zip(rows, printed, strict=True):
        assert got["parameters"] == want["params"]
        assert (got["fast_period"], got["slow_period"]) == (
            want["params"]["fast"],
            want["params"]["slow"],
        )
        assert got["rank"] == want["rank"]
        assert got["score"] == want["score"]
        assert got["annualized_return"] == want["metrics"]["annualized_return_pct"]
        for key in BEST_METRICS:
            assert got[key] == want["metrics"][key], key
