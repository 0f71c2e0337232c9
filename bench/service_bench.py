"""Service benchmark: sweep submission latency under 50 concurrent clients, and how long a
queued job waits before a worker picks it up. On SQLite and PostgreSQL.

Run with ``.venv/bin/python bench/service_bench.py`` (``--quick`` for a smoke run,
``--backend sqlite`` for one backend). Every number comes from this one run and real
processes: ``tradesweep serve`` on a free loopback port in a temp data dir, over a fresh
SQLite file or a fresh throwaway PostgreSQL 15 server (initdb + pg_ctl from the Debian package
``postgresql``, fsync on) for each measurement.

(a) Submission latency: ``serve --concurrency 0`` (the API alone, so no job competes for the
    database); 50 asyncio clients, each with its own keep-alive connection, POST the client's
    own form-encoded sweep. *Steady*: each client submits once a second (jittered, open loop:
    about 50 submissions/s offered) for ``--seconds``. *Burst*: each client submits
    ``--requests`` times back to back (closed loop: this measures capacity; its latency is
    about 50 / throughput). Latency is client-side, send to full 202 body; percentiles over
    all requests after 20 warm-up ones. Goal: steady p99 < 50 ms. *Serial* (one client,
    ``5 x --requests`` submissions one after another) gives the service time of one request.
(b) Pickup delay: ``serve --concurrency 1`` on a fresh database; ``--jobs`` one-combination
    sweeps are submitted one at a time at random moments (0-1.5 s apart, so the worker is
    idle and polling); delay = ``started_at - created_at`` of each job as stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
PG_BIN = Path(os.environ.get("TRADESWEEP_PG_BIN", "/usr/lib/postgresql/15/bin"))
GOAL_P99_MS = 50.0
CLIENTS = 50
FORM = {
    "ticker": "GOOGL",
    "fast_range": ["10", "20"],
    "slow_range": ["20", "30"],
    "step": "5",
    "min_trades": "50",
    "strategy_type": "SMA",
    "config_path": "minimum",
}
KEY = re.compile(r"\b(ts_[a-z0-9]{8}_[A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL 15 server with one empty database; its URL."""
    root = Path(tempfile.mkdtemp(prefix="tradesweep-bench-pg-"))
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*args: object) -> None:
        subprocess.run([*as_user, *map(str, args)], check=True, capture_output=True, cwd=root)

    try:
        run(PG_BIN / "initdb", "-D", root / "data", "-U", "bench", "--auth=trust", "--no-sync")
        # Durable settings (fsync on), unlike the test suite's server: this measures latency.
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        run(
            PG_BIN / "pg_ctl", "-D", root / "data", "-l", root / "log", "-w", "-o", options, "start"
        )
        run(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "bench", "bench")
        yield f"postgresql+psycopg://bench@127.0.0.1:{port}/bench"
    finally:
        if (root / "data" / "postmaster.pid").exists():
            run(PG_BIN / "pg_ctl", "-D", root / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def serving(database_url: str, workers: int) -> Iterator[tuple[str, str]]:
    """``tradesweep serve`` in a temp data dir; yields (base URL, key)."""
    data_dir = Path(tempfile.mkdtemp(prefix="tradesweep-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
    env |= {"TRADESWEEP_DATA_DIR": str(data_dir), "TRADESWEEP_DATABASE_URL": database_url}
    # One key submits for every client and no worker drains the queue: lift the per-key rate
    # limit and the active-job cap (docs/api.md, Limits), which would otherwise answer 429.
    env |= {"TRADESWEEP_SUBMIT_RATE": "0", "TRADESWEEP_MAX_ACTIVE_JOBS": "0"}
    if not database_url.startswith("sqlite"):
        subprocess.run([TRADESWEEP, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    command = [TRADESWEEP, "serve", "--port", str(port), "--concurrency", str(workers)]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        key = None
        for line in process.stdout:
            if match := KEY.search(line):
                key = match.group(1)
                break
        if key is None:
            raise RuntimeError("serve printed no key")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, key
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _burst_client(
    url: str, key: str, n: int, latencies: list[float], errors: list[int]
) -> None:
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        for _ in range(n):
            await _submit(client, latencies, errors)


async def _steady_client(
    url: str, key: str, seconds: float, seed: int, latencies: list[float], errors: list[int]
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        due = start + rng.uniform(0, 1)
        while due < start + seconds:
            await asyncio.sleep(max(0.0, due - loop.time()))
            await _submit(client, latencies, errors)
            due += rng.uniform(0.8, 1.2)


async def _submit(client: httpx.AsyncClient, latencies: list[float], errors: list[int]) -> None:
    started = time.perf_counter()
    response = await client.post("/api/v1/strategy/sweep", data=FORM)
    latencies.append(time.perf_counter() - started)
    if response.status_code != 202:
        errors.append(response.status_code)


async def _latency(
    url: str, key: str, requests: int, seconds: float
) -> dict[str, dict[str, float]]:
    await asyncio.gather(*(_burst_client(url, key, 1, [], []) for _ in range(20)))  # warm-up
    out = {}
    for mode in ("serial", "steady", "burst"):
        latencies: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        if mode == "serial":
            clients = [_burst_client(url, key, requests * 5, latencies, errors)]
        elif mode == "steady":
            clients = [
                _steady_client(url, key, seconds, i, latencies, errors) for i in range(CLIENTS)
            ]
        else:
            clients = [_burst_client(url, key, requests, latencies, errors) for _ in range(CLIENTS)]
        await asyncio.gather(*clients)
        out[mode] = _summary(latencies, errors, time.perf_counter() - started)
    return out


def _summary(latencies: list[float], errors: list[int], elapsed: float) -> dict[str, float]:
    ms = [x * 1000 for x in latencies]
    return {
        "requests": len(ms),
        "errors": len(errors),
        "p50": _percentile(ms, 50),
        "p95": _percentile(ms, 95),
        "p99": _percentile(ms, 99),
        "max": max(ms),
        "per_second": len(ms) / elapsed,
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def submission_latency(
    database_url: str, requests: int, seconds: float
) -> dict[str, dict[str, float]]:
    with serving(database_url, workers=0) as (url, key):
        return asyncio.run(_latency(url, key, requests, seconds))


def pickup_delay(database_url: str, jobs: int) -> dict[str, float]:
    one = {**FORM, "fast_range": ["10", "10"], "slow_range": ["20", "20"], "min_trades": "10"}
    delays = []
    rng = random.Random(7)
    with serving(database_url, workers=1) as (url, key):
        client = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60)
        with client:
            for _ in range(jobs):
                time.sleep(rng.uniform(0, 1.5))
                job_id = client.post("/api/v1/strategy/sweep", data=one).json()["job_id"]
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    job = client.get(f"/api/v1/jobs/{job_id}").json()
                    if job["status"] in ("completed", "failed", "cancelled"):
                        break
                    time.sleep(0.05)
                created = datetime.fromisoformat(job["created_at"])
                started = datetime.fromisoformat(job["started_at"])
                delays.append((started - created).total_seconds() * 1000)
    return {
        "jobs": len(delays),
        "p50": statistics.median(delays),
        "max": max(delays),
        "mean": statistics.fmean(delays),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=20, help="steady phase length")
    parser.add_argument("--requests", type=int, default=20, help="burst: per client (x 50)")
    parser.add_argument("--jobs", type=int, default=20, help="jobs for the pickup delay")
    parser.add_argument("--quick", action="store_true", help="5 s steady, 5 per client, 5 jobs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.requests, args.jobs = 5, 5, 5
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {CLIENTS} "
        f"clients: steady {args.seconds:g} s at 1 submission/s each, burst {args.requests} each"
    )
    header = f"{'backend':<11} {'phase':<7} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} "
    print(header + f"{'p99 ms':>8} {'max ms':>8} {'req/s':>7}  goal p99 < {GOAL_P99_MS:g} ms")
    pickups = {}
    for backend in backends:
        with _database(backend) as url:
            latency = submission_latency(url, args.requests, args.seconds)
        for phase, row in latency.items():
            goal = ("met" if row["p99"] < GOAL_P99_MS else "NOT MET") if phase == "steady" else ""
            print(
                f"{backend:<11} {phase:<7} {row['requests']:>5.0f} {row['errors']:>4.0f} "
                f"{row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f} {row['max']:>8.1f} "
                f"{row['per_second']:>7.0f}  {goal}"
            )
        with _database(backend) as url:
            pickups[backend] = pickup_delay(url, args.jobs)
    print(f"\n{'backend':<11} {'jobs':>5} {'pickup p50 ms':>14} {'mean ms':>8} {'max ms':>8}")
    for backend, pickup in pickups.items():
        print(
            f"{backend:<11} {pickup['jobs']:>5} {pickup['p50']:>14.0f} {pickup['mean']:>8.0f} "
            f"{pickup['max']:>8.0f}"
        )


@contextmanager
def _database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="tradesweep-bench-db-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        with postgres() as url:
            yield url


if __name__ == "__main__":
    main()
