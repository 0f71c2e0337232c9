"""The API with the dashboard routers, served for real on SQLite: uvicorn on a free loopback
port in a thread, called with httpx (one tenant's key, and an anonymous client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.store import (
    ApiKeyRepository,
    TenantRepository,
    make_engine,
    session_factory,
    upgrade_database,
)
from tradesweep.store.models import WorkerRecord
from tradesweep.store.types import utcnow

from ..servers import ServerThread

SECRET = b"web-test-secret-0123456789abcdef"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def web_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def web_sessions(web_engine: Engine) -> sessionmaker[Session]:
    return session_factory(web_engine)


@pytest.fixture
def live_worker(web_sessions: sessionmaker[Session]) -> str:
    """The id of a row in the workers table with a fresh heartbeat, as a running worker keeps
    it: the queue has a consumer (for tests about answers, not about running jobs)."""
    with web_sessions.begin() as s:
        s.add(WorkerRecord(id="live-worker", hostname="h", pid=1, heartbeat_at=utcnow()))
    return "live-worker"


@pytest.fixture
def base_url(web_engine: Engine, data_dir: Path) -> Iterator[str]:
    settings = ApiSettings(
        database_url=str(web_engine.url),
        data_dir=data_dir,
        session_secret=SECRET,
        max_body_bytes=256 * 1024,
    )
    with ServerThread(create_app(settings, engine=web_engine)) as server:
        yield server.url


@pytest.fixture
def make_client(
    base_url: str, web_sessions: sessionmaker[Session]
) -> Iterator[Callable[[str], httpx.Client]]:
    """Factory: a client with a new key of ``tenant``."""
    clients: list[httpx.Client] = []

    def make(tenant: str) -> httpx.Client:
        with web_sessions.begin() as s:
            key = ApiKeyRepository(s).create(TenantRepository(s).get_or_create(tenant)).key
        clients.append(httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[[str], httpx.Client]) -> httpx.Client:
    return make_client("acme")


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c
