"""The API served for real: uvicorn on a free loopback port in a thread, over the ``engine``
fixture's database (SQLite and PostgreSQL), called with httpx."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.jobs import JobRetryPolicy, Worker
from tradesweep.store import ApiKeyRepository, TenantRepository
from tradesweep.store.models import WorkerRecord
from tradesweep.store.types import utcnow

from ..servers import ServerThread

SECRET = b"test-secret-0123456789abcdef0123"


@dataclass(frozen=True)
class Caller:
    """A tenant's key and a client that sends it."""

    tenant: str
    tenant_id: int
    key: str
    client: httpx.Client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def settings(db_url: str, data_dir: Path) -> ApiSettings:
    return ApiSettings(
        database_url=db_url, data_dir=data_dir, session_secret=SECRET, max_body_bytes=64 * 1024
    )


@pytest.fixture
def api(settings: ApiSettings, engine: Engine) -> Iterator[str]:
    """Base URL of the API over the test database (tables emptied after each test)."""
    server = ServerThread(create_app(settings, engine=engine)).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def anonymous(api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api, timeout=30) as client:
        yield client


@pytest.fixture
def make_caller(api: str, sessions: sessionmaker[Session]) -> Iterator[Callable[[str], Caller]]:
    clients: list[httpx.Client] = []

    def make(tenant: str = "acme") -> Caller:
        with sessions.begin() as s:
            owner = TenantRepository(s).get_or_create(tenant)
            key = ApiKeyRepository(s).create(owner).key
        client = httpx.Client(base_url=api, headers={"X-API-Key": key}, timeout=30)
        clients.append(client)
        return Caller(tenant, owner.id, key, client)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def acme(make_caller: Callable[[str], Caller]) -> Caller:
    return make_caller("acme")


_SWEEP_FORM = {
    "ticker": "GOOGL",
    "fast_range": ["10", "20"],
    "slow_range": ["20", "30"],
    "step": "5",
    "min_trades": "50",
    "strategy_type": "SMA",
    "config_path": "minimum",
    "webhook_url": "https://example.com/hooks/sweep",
}
"""The client's form, as ``requests.post(url, data={... "fast_range": [10, 20] ...})`` sends
it: each list item as a repeated field."""

_SWEEP_JSON = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [20, 30],
    "step": 5,
    "min_trades": 50,
    "strategy_type": "SMA",
    "config_path": "minimum",
    "webhook_url": "https://example.com/hooks/sweep",
}


@pytest.fixture
def sweep_form() -> dict[str, object]:
    return dict(_SWEEP_FORM)


@pytest.fixture
def sweep_json() -> dict[str, object]:
    return dict(_SWEEP_JSON)


@pytest.fixture
def serve_app() -> Iterator[Callable[[object], str]]:
    """Factory: serve any app on a free port; returns its base URL; stopped after the test."""
    servers: list[ServerThread] = []

    def start(app: object) -> str:
        servers.append(ServerThread(app).start())
        return servers[-1].url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_worker(sessions: sessionmaker[Session]) -> Iterator[Callable[[], None]]:
    """``start_worker()``: a job worker (a thread; each job in a child process) on the test
    database until the test ends."""
    stops: list[tuple[threading.Event, threading.Thread]] = []

    def start() -> None:
        worker = Worker(
            sessions,
            poll_interval=0.1,
            compute_workers=1,
            retry=JobRetryPolicy(multiplier=0.05, max_delay=0.2, jitter=0.05),
        )
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), name="test-worker")
        thread.start()
        stops.append((stop, thread))

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(60)
        assert not thread.is_alive(), "the worker did not stop"


@pytest.fixture
def live_worker(sessions: sessionmaker[Session]) -> str:
    """The id of a row in the workers table with a fresh heartbeat, as a running worker keeps
    it: the queue has a consumer (for tests about answers, not about running jobs)."""
    with sessions.begin() as s:
        s.add(WorkerRecord(id="live-worker", hostname="h", pid=1, heartbeat_at=utcnow()))
    return "live-worker"
