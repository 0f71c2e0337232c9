"""The bus contract: every test runs on the in-process broker and on a real redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from tradesweep.paper.bus import (
    MAX_MESSAGE_BYTES,
    Broker,
    GroupNotFound,
    InvalidMessage,
    InvalidStreamName,
    MessageTooLarge,
)

S, G = "candles.TEST", "engine"


def _publish(broker: Broker, n: int, stream: str = S) -> list[str]:
    return [broker.publish(stream, {"i": i}) for i in range(n)]


def _wait_reclaim(
    broker: Broker, consumer: str, *, expect: int, min_idle_ms: int = 50
) -> list[tuple[str, dict[str, object]]]:
    """Reclaim by polling until ``expect`` entries came back (idle time passes on its own)."""
    got: list[tuple[str, dict[str, object]]] = []
    deadline = time.monotonic() + 10
    while len(got) < expect and time.monotonic() < deadline:
        got += broker.reclaim(S, G, consumer, min_idle_ms=min_idle_ms)
        if len(got) < expect:
            time.sleep(0.01)
    return got


def test_the_broker_is_the_interface(broker: Broker) -> None:
    assert isinstance(broker, Broker)


def test_a_group_reads_what_was_published_in_order(broker: Broker) -> None:
    broker.ensure_group(S, G)
    ids = _publish(broker, 5)
    got = broker.read(S, G, "c1", count=10)
    assert [e.id for e in got] == ids
    assert [e.message for e in got] == [{"i": i} for i in range(5)]
    keys = [tuple(map(int, i.split("-"))) for i in ids]
    assert keys == sorted(keys) and len(set(keys)) == 5
    assert broker.read(S, G, "c1") == []


def test_a_new_group_sees_entries_published_before_it(broker: Broker) -> None:
    ids = _publish(broker, 3)
    broker.ensure_group(S, G)
    broker.ensure_group(S, G)  # again: no error, no reset
    assert [e.id for e in broker.read(S, G, "c1")] == ids
    broker.ensure_group(S, G)
    assert broker.read(S, G, "c1") == []


def test_count_bounds_a_read(broker: Broker) -> None:
    broker.ensure_group(S, G)
    ids = _publish(broker, 5)
    assert [e.id for e in broker.read(S, G, "c1", count=2)] == ids[:2]
    assert [e.id for e in broker.read(S, G, "c1", count=10)] == ids[2:]


def test_consumers_of_one_group_share_entries_without_duplicates(
    make_broker: Callable[[], Broker],
) -> None:
    a, b = make_broker(), make_broker()
    a.ensure_group(S, G)
    ids = _publish(a, 10)
    seen = [e.id for e in a.read(S, G, "a", count=4)]
    seen += [e.id for e in b.read(S, G, "b", count=4)]
    seen += [e.id for e in a.read(S, G, "a", count=4)]
    assert seen == ids


def test_each_group_sees_every_entry(broker: Broker) -> None:
    broker.ensure_group(S, "engine")
    broker.ensure_group(S, "store")
    ids = _publish(broker, 4)
    assert [e.id for e in broker.read(S, "engine", "c")] == ids
    assert [e.id for e in broker.read(S, "store", "c")] == ids


def test_streams_are_apart(broker: Broker) -> None:
    broker.ensure_group(S, G)
    broker.ensure_group("signals", G)
    _publish(broker, 2, "signals")
    assert broker.read(S, G, "c") == []
    assert len(broker.read("signals", G, "c")) == 2


def test_unacked_entries_stay_pending_until_acked(broker: Broker) -> None:
    broker.ensure_group(S, G)
    ids = _publish(broker, 3)
    broker.read(S, G, "c1")
    assert broker.pending(S, G) == 3
    assert broker.ack(S, G, ids[:2]) == 2
    assert broker.pending(S, G) == 1
    assert broker.ack(S, G, ids[:2]) == 0  # already done
    assert broker.ack(S, G, []) == 0
    assert broker.ack(S, G, ids[2:]) == 1
    assert broker.pending(S, G) == 0


def test_a_second_consumer_reclaims_what_the_first_left_pending(
    make_broker: Callable[[], Broker],
) -> None:
    first, second = make_broker(), make_broker()
    first.ensure_group(S, G)
    ids = _publish(first, 6)
    taken = [e.id for e in first.read(S, G, "dead", count=4)]
    first.ack(S, G, taken[:1])
    # not idle long enough yet for a minute's threshold
    assert second.reclaim(S, G, "alive", min_idle_ms=60_000) == []
    got = _wait_reclaim(second, "alive", expect=3)
    assert [e.id for e in got] == taken[1:]
    assert [e.message for e in got] == [{"i": i} for i in (1, 2, 3)]
    # reclaimed entries are the new owner's: still pending until it acks them
    assert second.pending(S, G) == 3
    assert second.ack(S, G, [e.id for e in got]) == 3
    assert [e.id for e in second.read(S, G, "alive")] == ids[4:]


def test_reclaim_count_bounds_what_is_taken(broker: Broker) -> None:
    broker.ensure_group(S, G)
    _publish(broker, 5)
    broker.read(S, G, "dead")
    got: list[tuple[str, dict[str, object]]] = []
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        got = broker.reclaim(S, G, "alive", min_idle_ms=50, count=2)
    assert len(got) == 2


def test_a_blocking_read_returns_when_a_message_arrives(broker: Broker) -> None:
    broker.ensure_group(S, G)
    published = threading.Event()

    def publish_later() -> None:
        time.sleep(0.1)
        broker.publish(S, {"late": True})
        published.set()

    thread = threading.Thread(target=publish_later)
    thread.start()
    try:
        got = broker.read(S, G, "c1", block_ms=30_000)
    finally:
        thread.join()
    assert published.is_set()
    assert [e.message for e in got] == [{"late": True}]


def test_a_blocking_read_with_nothing_to_read_ends_empty(broker: Broker) -> None:
    broker.ensure_group(S, G)
    assert broker.read(S, G, "c1", block_ms=20) == []


MESSAGE = {
    "int": 7,
    "big": 2**53 + 1,
    "float": 0.1 + 0.2,
    "negative": -1.5e-300,
    "str": "BTC/USDT é ✓",
    "none": None,
    "bool": False,
    "list": [1, 2.5, "x", None],
    "nested": {"a": {"b": [{"c": 1}]}},
}


def test_message_types_round_trip(broker: Broker) -> None:
    broker.ensure_group(S, G)
    broker.publish(S, MESSAGE)
    [entry] = broker.read(S, G, "c1")
    assert entry.message == MESSAGE
    assert type(entry.message["int"]) is int and type(entry.message["float"]) is float
    assert entry.message["float"] == 0.1 + 0.2


def test_an_oversize_message_is_refused(broker: Broker) -> None:
    broker.ensure_group(S, G)
    with pytest.raises(MessageTooLarge, match="over the limit") as caught:
        broker.publish(S, {"blob": "x" * MAX_MESSAGE_BYTES})
    assert caught.value.details["limit"] == MAX_MESSAGE_BYTES
    assert broker.read(S, G, "c1") == []


@pytest.mark.parametrize(
    "message",
    [["not", "a", "dict"], {"nan": float("nan")}, {"when": object()}],
    ids=["list", "nan", "object"],
)
def test_a_message_that_is_not_json_is_refused(broker: Broker, message: object) -> None:
    with pytest.raises(InvalidMessage) as caught:
        broker.publish(S, message)  # type: ignore[arg-type]
    assert caught.value.fix


@pytest.mark.parametrize("stream", ["", "candles.A B", "candles.*", "sig?nals", "x[1]"])
def test_bad_stream_names_are_refused(broker: Broker, stream: str) -> None:
    with pytest.raises(InvalidStreamName):
        broker.publish(stream, {})
    with pytest.raises(InvalidStreamName):
        broker.ensure_group(stream, G)


def test_a_group_that_was_never_made_is_a_bug(broker: Broker) -> None:
    broker.publish(S, {})
    for call in (
        lambda: broker.read(S, "nobody", "c"),
        lambda: broker.pending(S, "nobody"),
        lambda: broker.reclaim(S, "nobody", "c", min_idle_ms=0),
    ):
        with pytest.raises(GroupNotFound, match="nobody"):
            call()
    assert broker.ack(S, "nobody", ["1-0"]) == 0  # as XACK answers
