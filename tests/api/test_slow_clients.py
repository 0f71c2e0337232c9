"""A client that sends a body slowly, over real sockets, on SQLite and PostgreSQL: while it
holds its request open, other tenants' reads and submissions answer within 1 s (no request
holds the database while it waits on the network), and once the body read timeout passes
the slow client gets 408 and its connection is closed.

The slow client is a raw socket: headers, then 10 bytes of an announced body, then nothing
(or one byte every 0.2 s, so the deadline is the whole body's, not each read's)."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.errors import TradesweepError
from tradesweep.store import ApiKeyRepository, TenantRepository

from ..servers import ServerThread
from .conftest import Caller

BODY_TIMEOUT = 2.0
SWEEP = "/api/v1/strategy/sweep"
UPLOAD = "/api/v1/datasets"
REQUEST = {
    "ticker": "GOOGL",
    "fast_range": [10, 20],
    "slow_range": [20, 30],
    "step": 5,
    "min_trades": 50,
    "strategy_type": "SMA",
}
JSON_BODY = json.dumps(REQUEST).encode()
FORM_BODY = (
    b"ticker=GOOGL&fast_range=10&fast_range=20&slow_range=20&slow_range=30&step=5"
    b"&min_trades=50&strategy_type=SMA"
)
BOUNDARY = "slowboundary"
MULTIPART_BODY = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="ticker"\r\n\r\nSLOWCO\r\n'
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bars.csv"\r\n'
    f"Content-Type: text/csv\r\n\r\ndate,open,high,low,close,volume\r\n"
    f"2024-01-02,1,2,0.5,1.5,100\r\n--{BOUNDARY}--\r\n"
).encode()

SLOW_REQUESTS = {
    "json sweep": (SWEEP, "application/json", JSON_BODY),
    "form sweep": (SWEEP, "application/x-www-form-urlencoded", FORM_BODY),
    "multipart upload": (UPLOAD, f"multipart/form-data; boundary={BOUNDARY}", MULTIPART_BODY),
}


@dataclass
class Served:
    url: str
    server: ServerThread

    def requests_in_flight(self) -> int:
        return len(self.server.server.server_state.tasks)


@pytest.fixture
def served(settings: ApiSettings, engine: Engine) -> Iterator[Served]:
    """The API with a short body read timeout."""
    quick = dataclasses.replace(settings, body_timeout_seconds=BODY_TIMEOUT)
    server = ServerThread(create_app(quick, engine=engine)).start()
    try:
        yield Served(server.url, server)
    finally:
        server.stop()


@pytest.fixture
def caller(served: Served, sessions: sessionmaker[Session]) -> Iterator[Callable[[str], Caller]]:
    """Factory: a tenant's key and a client of the short-timeout server."""
    clients: list[httpx.Client] = []

    def make(tenant: str) -> Caller:
        with sessions.begin() as s:
            owner = TenantRepository(s).get_or_create(tenant)
            key = ApiKeyRepository(s).create(owner).key
        clients.append(httpx.Client(base_url=served.url, headers={"X-API-Key": key}, timeout=10))
        return Caller(tenant, owner.id, key, clients[-1])

    yield make
    for client in clients:
        client.close()


class SlowClient:
    """A raw socket that sends the headers and the first 10 bytes of ``body``, then waits
    (``trickle``: then one more byte every 0.2 s, until the server closes)."""

    def __init__(
        self, served: Served, key: str, path: str, media: str, body: bytes, keep_alive: bool = True
    ) -> None:
        port = served.server.port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
            f"Content-Type: {media}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        self.body = body
        self.sock.sendall(head.encode() + body[:10])
        self.closed = threading.Event()

    def trickle(self) -> threading.Thread:
        def run() -> None:
            for i in range(10, len(self.body) - 1):
                if self.closed.wait(0.2):
                    return
                try:
                    self.sock.sendall(self.body[i : i + 1])
                except OSError:
                    return

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def answer(self) -> tuple[bytes, bytes]:
        """Everything the server sends until it closes the connection: (status line, rest)."""
        received = b""
        try:
            while chunk := self.sock.recv(65536):
                received += chunk
        finally:
            self.closed.set()
            self.sock.close()
        status, _, rest = received.partition(b"\r\n")
        return status, rest


@pytest.fixture
def slow_client(served: Served) -> Iterator[Callable[..., SlowClient]]:
    """Factory of :class:`SlowClient` to ``served``; every socket is closed after the test."""
    made: list[SlowClient] = []

    def make(*args: object, **kwargs: object) -> SlowClient:
        made.append(SlowClient(served, *args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for client in made:
        client.closed.set()
        client.sock.close()


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("trickle", [False, True], ids=["stalled", "trickling"])
@pytest.mark.parametrize("kind", list(SLOW_REQUESTS))
def test_a_slow_body_holds_no_one_else_and_ends_with_408(
    served: Served,
    caller: Callable[[str], Caller],
    slow_client: Callable[..., SlowClient],
    kind: str,
    trickle: bool,
) -> None:
    slow_tenant, other = caller("acme"), caller("globex")
    path, media, body = SLOW_REQUESTS[kind]
    slow = slow_client(slow_tenant.key, path, media, body)
    _wait_for(lambda: served.requests_in_flight() == 1, "the slow request to reach the app")
    if trickle:
        slow.trickle()

    listed, listed_s = _timed(lambda: other.client.get("/api/v1/jobs"))
    submitted, submitted_s = _timed(lambda: other.client.post(SWEEP, json=REQUEST))
    assert listed.status_code == 200 and listed_s < 1.0, (listed.text, listed_s)
    assert submitted.status_code == 202 and submitted_s < 1.0, (submitted.text, submitted_s)

    status, rest = slow.answer()  # returns once the server has closed the connection
    assert status == b"HTTP/1.1 408 Request Timeout"
    headers, _, content = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    error = json.loads(content)
    assert error["error"] == "body_timeout"
    assert f"within {BODY_TIMEOUT:g} s" in error["message"]
    assert error["details"]["timeout_seconds"] == BODY_TIMEOUT
    assert error["details"]["received_bytes"] < len(body)
    assert error["details"]["content_length"] == len(body)


def test_a_body_sent_in_time_is_read_whole(
    caller: Callable[[str], Caller], slow_client: Callable[..., SlowClient]
) -> None:
    """A body that arrives in pieces, within the timeout, is answered as usual."""
    acme = caller("acme")
    slow = slow_client(acme.key, SWEEP, "application/json", JSON_BODY, keep_alive=False)
    slow.sock.sendall(JSON_BODY[10:])
    status, rest = slow.answer()
    assert status == b"HTTP/1.1 202 Accepted", rest
    assert acme.client.get("/api/v1/jobs").json()["jobs"][0]["status"] == "queued"


def test_the_body_timeout_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRADESWEEP_SESSION_SECRET", "s" * 32)
    assert ApiSettings.from_env("sqlite://").body_timeout_seconds == 30.0
    monkeypatch.setenv("TRADESWEEP_BODY_TIMEOUT_SECONDS", "7.5")
    assert ApiSettings.from_env("sqlite://").body_timeout_seconds == 7.5
    monkeypatch.setenv("TRADESWEEP_BODY_TIMEOUT_SECONDS", "0")
    with pytest.raises(TradesweepError, match="TRADESWEEP_BODY_TIMEOUT_SECONDS"):
        ApiSettings.from_env("sqlite://")
