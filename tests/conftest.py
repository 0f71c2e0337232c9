"""Shared fixtures: the bundled real datasets, loaded once per session, and database backends
for the store, queue and API tests: a SQLite file and a throwaway PostgreSQL 15 server.

PostgreSQL tests fail (not skip) when the server binaries are missing, unless
``TRADESWEEP_SKIP_POSTGRES=1``.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import psycopg
import pytest
from hypothesis import settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import load_sample
from tradesweep.store import Base, make_engine, session_factory, upgrade_database

# CI runs the same hypothesis examples every time (a red run is reproducible); set
# HYPOTHESIS_PROFILE=explore locally to search fresh random examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BACKENDS = ["sqlite", "postgresql"]
PG_BIN = Path(os.environ.get("TRADESWEEP_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "tradesweep"


class PostgresServer:
    """initdb into a temp dir, pg_ctl on a free loopback port, removed on stop. As root the
    server runs as the ``postgres`` user (initdb refuses root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tradesweep-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")  # created by the Debian postgresql package
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def start(self) -> None:
        self._run(
            PG_BIN / "initdb",
            "-D", self.data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w",
            "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL."""
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, *args: object) -> None:
        cmd = [*self._as_user, *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}"
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def binaries_missing() -> str | None:
    """Why the server cannot start here, or None."""
    if not (PG_BIN / "initdb").exists():
        return (
            f"PostgreSQL binaries not found in {PG_BIN}: run scripts/system-deps.sh (installs the "
            "Debian package postgresql), or set TRADESWEEP_SKIP_POSTGRES=1 to skip these tests"
        )
    return None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if os.environ.get("TRADESWEEP_SKIP_POSTGRES") == "1":
        pytest.skip("TRADESWEEP_SKIP_POSTGRES=1")
    missing = binaries_missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fresh_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], str]:
    """Factory: ``fresh_database(backend)`` -> URL of a new, empty database."""
    counter = iter(range(1_000_000))

    def make(backend: str) -> str:
        n = next(counter)
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / f'db{n}.db'}"
        server: PostgresServer = request.getfixturevalue("pg_server")
        return server.create_database(f"tradesweep_{n}")

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, fresh_database: Callable[[str], str]) -> str:
    """A migrated database on each backend, shared by the session (tables emptied per test)."""
    url = fresh_database(request.param)
    upgrade_database(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        _empty_tables(engine)
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def googl() -> pd.DataFrame:
    return load_sample("GOOGL")


@pytest.fixture(scope="session")
def eurusd() -> pd.DataFrame:
    return load_sample("EURUSD")


@pytest.fixture(scope="session", params=["GOOGL", "EURUSD"])
def sample_bars(request: pytest.FixtureRequest) -> pd.DataFrame:
    """Each bundled dataset in turn."""
    return load_sample(request.param)


# ---- `tradesweep serve` as a real process -------------------------------------------------

TRADESWEEP = str(Path(sys.executable).with_name("tradesweep"))
_SERVE_URL = re.compile(r"(http://127\.0\.0\.1:\d+) ")
_SERVE_KEY = re.compile(r"\b(ts_[a-z0-9]{8}_[A-Za-z0-9_-]+)")


@dataclass
class ServeProcess:
    """A running ``tradesweep serve``: its URL, the first key it printed, its database and
    data dir, and its output (stdout and stderr apart, read by threads as it comes)."""

    process: subprocess.Popen[str]
    url: str
    key: str
    database_url: str
    data_dir: Path
    stdout: list[str]
    stderr: list[str]
    readers: list[threading.Thread] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, **kwargs)

    def stop(self) -> None:
        """SIGTERM the process group (serve and its worker), SIGKILL what is left."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        for reader in self.readers:
            reader.join(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def run_serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Factory: ``run_serve(database_url=None, workers=1, env={...})`` starts ``tradesweep
    serve`` on a free port over a fresh data dir (SQLite there unless ``database_url``), waits
    for its URL, key and ``/health``; every one is stopped after the test. ``env`` adds
    variables (``TRADESWEEP_*`` of this process are not passed on)."""
    started: list[ServeProcess] = []

    def start(
        *, database_url: str | None = None, workers: int = 1, env: dict[str, str] | None = None
    ) -> ServeProcess:
        data_dir = tmp_path / f"serve{len(started)}"
        url = database_url or f"sqlite:///{data_dir / 'tradesweep.db'}"
        if database_url is not None:
            upgrade_database(database_url)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TRADESWEEP_")}
        environ |= {"TRADESWEEP_DATA_DIR": str(data_dir), "TRADESWEEP_DATABASE_URL": url}
        environ |= env or {}
        port = _free_port()
        command = [TRADESWEEP, "serve", "--port", str(port), "--concurrency", str(workers)]
        process = subprocess.Popen(
            command,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        served = ServeProcess(process, "", "", url, data_dir, [], [])
        started.append(served)
        for pipe, lines in ((process.stdout, served.stdout), (process.stderr, served.stderr)):
            served.readers.append(threading.Thread(target=_pump, args=(pipe, lines), daemon=True))
            served.readers[-1].start()
        deadline = time.monotonic() + 90
        text = ""
        while time.monotonic() < deadline and process.poll() is None and "API key" not in text:
            time.sleep(0.05)
            text = "".join(served.stdout)
        served.url = m.group(1) if (m := _SERVE_URL.search(text)) else ""
        served.key = m.group(1) if (m := _SERVE_KEY.search(text)) else ""
        while time.monotonic() < deadline and process.poll() is None:
            with suppress(httpx.TransportError):
                if served.url and httpx.get(f"{served.url}/health", timeout=5).is_success:
                    return served
            time.sleep(0.1)
        output = "".join(served.stdout) + "".join(served.stderr)
        raise AssertionError(f"serve did not start:\n{output}")

    yield start
    for served in started:
        served.stop()


def _pump(pipe: Any, lines: list[str]) -> None:
    for line in pipe:
        lines.append(line)
