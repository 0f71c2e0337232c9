"""What the bus contract does not cover: URLs, names, the core install without redis, and a
consumer process killed with entries pending."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tradesweep.paper.bus import (
    FILLS,
    ORDERS,
    SIGNALS,
    SNAPSHOTS,
    BrokerUnavailable,
    InProcessBroker,
    InvalidBrokerURL,
    InvalidStreamName,
    RedisBroker,
    broker_from_url,
    candles_stream,
    redact_url,
)

from .conftest import RedisServer, _free_port

SRC = Path(__file__).resolve().parents[2] / "src"


def test_stream_names_as_the_platform_had_them() -> None:
    assert candles_stream("GOOGL") == "candles.GOOGL"
    assert candles_stream("BTC/USDT") == "candles.BTC/USDT"
    assert candles_stream("^GSPC") == "candles.^GSPC"
    assert (SIGNALS, ORDERS, FILLS, SNAPSHOTS) == ("signals", "orders", "fills", "snapshots")


@pytest.mark.parametrize("symbol", ["", "BTC USDT", "GOO*", "A?", "[AB]", "x" * 65, " GOOGL"])
def test_a_symbol_with_spaces_or_wildcards_names_no_stream(symbol: str) -> None:
    with pytest.raises(InvalidStreamName, match="candle stream") as caught:
        candles_stream(symbol)
    assert caught.value.details["symbol"] == symbol
    assert "letters, digits" in (caught.value.fix or "")


@pytest.mark.parametrize("url", [None, "", "  ", "memory://"])
def test_no_url_gives_the_in_process_bus(url: str | None) -> None:
    assert isinstance(broker_from_url(url), InProcessBroker)


def test_a_redis_url_gives_the_redis_bus(redis_url: str) -> None:
    broker = broker_from_url(redis_url)
    try:
        assert isinstance(broker, RedisBroker)
    finally:
        broker.close()


def test_a_redis_url_that_does_not_answer_is_one_clear_error() -> None:
    url = f"redis://:hunter2@127.0.0.1:{_free_port()}/0"
    with pytest.raises(BrokerUnavailable) as caught:
        broker_from_url(url)
    text = str(caught.value)
    assert "hunter2" not in text and "hunter2" not in str(caught.value.to_dict())
    assert f"redis://:***@127.0.0.1:{url.split(':')[-1]}" in text
    assert "does not answer" in text and "TRADESWEEP_REDIS_URL" in text
    assert caught.value.code == "broker_unavailable"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "reds://localhost", "localhost:6379"])
def test_a_url_of_an_unknown_scheme_is_refused(url: str) -> None:
    with pytest.raises(InvalidBrokerURL, match="no known scheme") as caught:
        broker_from_url(url)
    assert "redis://" in (caught.value.fix or "")


def test_a_typo_in_the_scheme_gets_a_did_you_mean() -> None:
    with pytest.raises(InvalidBrokerURL, match="did you mean 'redis'"):
        broker_from_url("reddis://127.0.0.1:6379/0")


def test_redaction() -> None:
    assert redact_url("redis://u:p@h:1/0") == "redis://u:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


def test_a_server_that_goes_away_is_retried_then_one_clear_error() -> None:
    server = RedisServer()
    server.start()
    try:
        broker = RedisBroker(server.url, attempts=2)
        broker.ensure_group(SIGNALS, "g")
    finally:
        server.stop()
    with pytest.raises(BrokerUnavailable, match="2 tries") as caught:
        broker.publish(SIGNALS, {"x": 1})
    assert server.url in str(caught.value)
    broker.close()


def test_a_lost_connection_is_retried_until_the_server_is_back() -> None:
    server = RedisServer()
    server.start()
    broker = RedisBroker(server.url, attempts=20)
    again = RedisServer(server.port)
    try:
        broker.ensure_group(SIGNALS, "g")
        server.stop()
        restart = threading.Thread(target=again.start)
        restart.start()
        try:
            entry_id = broker.publish(SIGNALS, {"after": "restart"})  # retried meanwhile
        finally:
            restart.join()
        broker.ensure_group(SIGNALS, "g")  # a fresh server: no persistence
        assert broker.read(SIGNALS, "g", "c") == [(entry_id, {"after": "restart"})]
    finally:
        broker.close()
        again.stop()


def test_the_core_install_does_not_import_redis() -> None:
    code = (
        "import sys, tradesweep.paper as p; "
        "b = p.broker_from_url(None); b.ensure_group('s', 'g'); b.publish('s', {}); "
        "assert 'redis' not in sys.modules and 'tenacity' not in sys.modules, 'imported'"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


CONSUMER = """
import sys
from tradesweep.paper.bus import RedisBroker
broker = RedisBroker(sys.argv[1])
got = []
while len(got) < 5:
    got += broker.read("candles.CRASH", "engine", "doomed", count=5 - len(got), block_ms=1000)
print(" ".join(e.id for e in got), flush=True)
sys.stdin.read()  # hold the entries, never ack, until killed
"""


def test_entries_of_a_killed_consumer_are_reclaimed_once(redis_url: str) -> None:
    stream, group = "candles.CRASH", "engine"
    broker = RedisBroker(redis_url)
    broker.ensure_group(stream, group)
    published = [broker.publish(stream, {"i": i}) for i in range(20)]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with subprocess.Popen(
        [sys.executable, "-c", CONSUMER, redis_url],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as doomed:
        try:
            assert doomed.stdout is not None
            held = doomed.stdout.readline().split()
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
    assert doomed.returncode == -signal.SIGKILL
    assert held == published[:5]
    assert broker.pending(stream, group) == 5

    acked: list[str] = []
    reclaimed: list[str] = []
    deadline = time.monotonic() + 10
    while len(reclaimed) < 5 and time.monotonic() < deadline:
        got = broker.reclaim(stream, group, "heir", min_idle_ms=50)
        reclaimed += [e.id for e in got]
        broker.ack(stream, group, [e.id for e in got])
        acked += [e.id for e in got]
    assert reclaimed == held
    while got := broker.read(stream, group, "heir", count=7):
        broker.ack(stream, group, [e.id for e in got])
        acked += [e.id for e in got]
    assert broker.reclaim(stream, group, "heir", min_idle_ms=0) == []
    assert broker.pending(stream, group) == 0
    assert sorted(acked) == sorted(published) and len(acked) == len(set(acked))
    broker.close()


def test_maxlen_keeps_the_newest_entries_in_process() -> None:
    broker = InProcessBroker(maxlen=3)
    broker.ensure_group(SIGNALS, "g")
    ids = [broker.publish(SIGNALS, {"i": i}) for i in range(5)]
    assert [e.id for e in broker.read(SIGNALS, "g", "c")] == ids[2:]


def test_maxlen_trims_a_redis_stream_about_there(redis_url: str) -> None:
    broker = RedisBroker(redis_url, maxlen=10)
    try:
        broker.ensure_group(SIGNALS, "g")
        ids = [broker.publish(SIGNALS, {"i": i}) for i in range(1000)]
        got = broker.read(SIGNALS, "g", "c", count=2000)
        assert 10 <= len(got) < 1000  # XADD MAXLEN ~ trims whole nodes, so "about"
        assert [e.id for e in got] == ids[-len(got) :]
    finally:
        broker.close()
