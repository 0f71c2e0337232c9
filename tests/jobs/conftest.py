"""Fixtures for the queue and worker tests: jobs in the database, workers in this process (a
thread, each attempt still a real child process) or as ``python -m tradesweep worker``
subprocesses, and a view of the process table (/proc) to prove no compute outlives its
worker. Every process a test starts is killed in the fixture's teardown."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.jobs import JobRetryPolicy, Worker
from tradesweep.store import Job, JobRepository, JobType, TenantRepository

PLUGINS = Path(__file__).parent / "plugins"
SLOW = str(PLUGINS / "slow" / "slow_probe.py")
BOOM = str(PLUGINS / "boom" / "boom.py")
FAST_RETRY = JobRetryPolicy(multiplier=0.05, max_delay=0.2, jitter=0.05)

Sessions = sessionmaker[Session]


def slow_sweep(n: int, delay: float) -> dict[str, Any]:
    """A sweep of ``n`` combinations of ``slow_probe``, each sleeping ``delay`` seconds."""
    return {"data": "GOOGL", "strategy": SLOW, "ranges": {"n": f"1:{n}:1", "delay": delay}}


@pytest.fixture
def specs() -> Any:
    """Spec builders: ``specs.slow(n, delay)``, ``specs.boom()``, ``specs.SLOW``..."""

    class Specs:
        SLOW = SLOW
        BOOM = BOOM
        slow = staticmethod(slow_sweep)

        @staticmethod
        def boom() -> dict[str, Any]:
            return {"data": "GOOGL", "strategy": BOOM, "ranges": {"n": "1:3:1"}}

    return Specs


@pytest.fixture
def make_job(sessions: Sessions) -> Callable[..., str]:
    """``make_job(type, spec, **create_kwargs) -> job id`` for tenant ``acme``."""

    def make(type: str, spec: dict[str, Any], **kwargs: Any) -> str:
        with sessions.begin() as session:
            tenant = TenantRepository(session).get_or_create("acme")
            created = JobRepository(session).create(
                tenant.id, JobType(type), {"spec": spec, "request": {}}, **kwargs
            )
            return created.job.id

    return make


@pytest.fixture
def read_job(sessions: Sessions) -> Callable[[str], Job]:
    def read(job_id: str) -> Job:
        with sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            return job

    return read


@pytest.fixture
def event_kinds(sessions: Sessions) -> Callable[[str], list[str]]:
    def kinds(job_id: str) -> list[str]:
        with sessions() as session:
            return [e.kind for e in JobRepository(session).events_after(job_id)]

    return kinds


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def wait() -> Callable[..., Any]:
    return wait_for


# ---- the process table -----------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    state: str

    @property
    def live(self) -> bool:
        return self.state not in ("Z", "X")


class ProcessTable:
    """A snapshot reader of /proc (Linux): parents, process groups, zombies."""

    @staticmethod
    def snapshot() -> dict[int, Proc]:
        table: dict[int, Proc] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(entry)] = Proc(int(entry), int(fields[1]), int(fields[2]), fields[0])
        return table

    def descendants(self, pid: int) -> dict[int, Proc]:
        table = self.snapshot()
        found: dict[int, Proc] = {}
        frontier = [pid]
        while frontier:
            parent = frontier.pop()
            for proc in table.values():
                if proc.ppid == parent and proc.pid not in found:
                    found[proc.pid] = proc
                    frontier.append(proc.pid)
        return found

    def live(self, pids: set[int] | dict[int, Any]) -> set[int]:
        table = self.snapshot()
        return {pid for pid in pids if pid in table and table[pid].live}

    def live_in_groups(self, pgids: set[int]) -> set[int]:
        return {p.pid for p in self.snapshot().values() if p.pgid in pgids and p.live}


@pytest.fixture
def procs() -> ProcessTable:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs Linux /proc")
    return ProcessTable()


# ---- workers ---------------------------------------------------------------------------


@pytest.fixture
def run_worker(sessions: Sessions, engine: Engine) -> Iterator[Callable[..., Any]]:
    """``with run_worker(**Worker kwargs) as (worker, stop): ...``: a Worker on a thread of
    this process; leaving the block stops it (and waits for it)."""
    started: list[tuple[threading.Event, threading.Thread]] = []

    @contextlib.contextmanager
    def start(**kwargs: Any) -> Iterator[tuple[Worker, threading.Event]]:
        kwargs.setdefault("poll_interval", 0.1)
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("compute_workers", 1)
        worker = Worker(sessions, **kwargs)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="test-worker")
        started.append((stop, thread))
        thread.start()
        try:
            yield worker, stop
        finally:
            stop.set()
            thread.join(30)
            assert not thread.is_alive(), "the worker did not stop"

    yield start
    for stop, thread in started:
        stop.set()
        thread.join(30)


class WorkerProcess:
    """``python -m tradesweep worker`` as a subprocess in its own session, logging to a file."""

    def __init__(self, url: str, log: Path, args: list[str]) -> None:
        self.log_path = log
        env = {**os.environ, "TRADESWEEP_LOG_FORMAT": "console"}
        command = [sys.executable, "-m", "tradesweep", "worker", "--url", url, *args]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.pid = self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)


@pytest.fixture
def spawn_worker(
    db_url: str, engine: Engine, tmp_path: Path, procs: ProcessTable
) -> Iterator[Callable[..., WorkerProcess]]:
    """``spawn_worker(*extra_args)``: a worker subprocess with a 2 s lease; it and everything
    it started are killed after the test."""
    spawned: list[WorkerProcess] = []
    seen: set[int] = set()

    def spawn(*args: str) -> WorkerProcess:
        defaults = ["--lease-seconds", "2", "--poll-interval", "0.2", "--concurrency", "1"]
        worker = WorkerProcess(db_url, tmp_path / f"worker-{len(spawned)}.log", [*defaults, *args])
        spawned.append(worker)
        return worker

    def remember() -> None:
        for worker in spawned:
            seen.update(procs.descendants(worker.pid))

    try:
        yield spawn
    finally:
        remember()
        for worker in spawned:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGCONT)
                os.kill(worker.pid, signal.SIGKILL)
            worker.process.wait(10)
        for pid in procs.live(seen):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for worker in spawned:
            print(f"---- {worker.log_path.name} ----\n{worker.log()}")
