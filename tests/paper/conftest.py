"""Paper fixtures: a throwaway ``redis-server`` on a free loopback port for the bus tests (like
PostgreSQL in tests/conftest.py; no persistence, removed after the session; the tests fail, not
skip, when the binary is missing: ``scripts/system-deps.sh`` installs it), a fake clock and the
local fake of binance's public API."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from tradesweep.paper.bus import Broker, InProcessBroker, RedisBroker

from .fake_exchange import FakeBinance

BROKERS = ["memory", "redis"]


class RedisServer:
    def __init__(self, port: int | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tradesweep-redis-"))
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.root),
                "--logfile", str(self.root / "server.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    log = self.root / "server.log"
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"redis-server did not answer PING on {self.url}:\n{tail}")
                time.sleep(0.05)
        finally:
            client.close()

    def flush(self) -> None:
        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            client.flushall()

    def stop(self) -> None:
        try:
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail(
            "redis-server not found: run scripts/system-deps.sh (installs the Debian package "
            "redis-server)",
            pytrace=False,
        )
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture(params=BROKERS)
def make_broker(request: pytest.FixtureRequest) -> Iterator[Callable[[], Broker]]:
    """Factory over both backends: ``make_broker()`` -> a new broker on the same data (one
    memory store per test, or the test's emptied Redis), closed after the test."""
    made: list[Broker] = []
    if request.param == "memory":
        shared = InProcessBroker()

        def make() -> Broker:
            return shared

    else:
        url: str = request.getfixturevalue("redis_url")

        def make() -> Broker:
            broker = RedisBroker(url)
            made.append(broker)
            return broker

    try:
        yield make
    finally:
        for broker in made:
            broker.close()


@pytest.fixture
def broker(make_broker: Callable[[], Broker]) -> Broker:
    return make_broker()


class FakeClock:
    """Aware UTC ``now`` that moves only when told to, or when something sleeps on it."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""The open time of the fake exchange's first candle."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def fake_binance() -> Iterator[FakeBinance]:
    fake = FakeBinance().start()
    try:
        yield fake
    finally:
        fake.stop()
