"""A webhook receiver that trickles its answer, over real sockets, on SQLite and PostgreSQL.

The trickler accepts the POST, then writes one header line every 0.5 s and never ends the
headers. Each attempt to it ends at the transport's deadline (one wall-clock deadline for
connect, headers and body, not a timeout per read) and is recorded as a failed attempt with
the reason; meanwhile another tenant's webhook goes out on time, and the delivery's lease
outlives the attempt, so a second dispatcher started meanwhile does not send it again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.notify import DeliveryOutcome, DeliveryRetryPolicy, HttpTransport, WebhookDispatcher
from tradesweep.notify.ssrf import resolve_destination
from tradesweep.store import DeliveryStatus, OutboxRepository, WebhookDelivery
from tradesweep.store.types import utcnow

Sessions = sessionmaker[Session]
DEADLINE = 2.0


class Trickler:
    """A loopback server that reads a request, answers ``HTTP/1.1 200 OK`` and then one more
    header line every ``every`` seconds, forever (or, with ``body=True``, ends the headers
    and trickles the body instead). ``opened`` is set when a connection is accepted;
    ``closed`` when the client has hung up; ``connections`` counts them."""

    def __init__(self, every: float = 0.5, *, body: bool = False) -> None:
        self.every, self.body = every, body
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.opened, self.closed, self.stop = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )
        self.connections = 0
        self.durations: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        started = time.monotonic()
        self.opened.set()
        with conn:
            conn.recv(65536)  # the request (small: headers and a JSON body)
            head = b"HTTP/1.1 200 OK\r\n"
            if self.body:
                head += b"Content-Length: 1000000\r\n\r\n"
            conn.sendall(head)
            n = 0
            while not self.stop.wait(self.every):
                n += 1
                try:
                    conn.sendall(b"x" if self.body else b"X-Trickle-%d: yes\r\n" % n)
                except OSError:  # the client hung up
                    break
        self.durations.append(time.monotonic() - started)
        self.closed.set()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def trickler() -> Iterator[Callable[..., Trickler]]:
    made: list[Trickler] = []

    def make(**kwargs: Any) -> Trickler:
        made.append(Trickler(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _wait_for(predicate: Callable[[], bool], what: str, seconds: float = 10.0) -> float:
    """Wait until ``predicate()``; return the seconds it took."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, f"timed out waiting for {what}"
        time.sleep(0.01)
    return time.monotonic() - started


def _delivery(sessions: Sessions, delivery_id: str) -> tuple[WebhookDelivery, list[Any]]:
    with sessions() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        return delivery, OutboxRepository(s).attempts(delivery_id)


def test_a_trickling_answer_ends_at_the_deadline(trickler: Callable[..., Trickler]) -> None:
    for slow in (trickler(), trickler(body=True)):
        destination = resolve_destination(slow.url(), allow_private=True)
        started = time.monotonic()
        result = HttpTransport(timeout=1.0).send(destination, b"{}", {})
        took = time.monotonic() - started
        assert slow.closed.wait(5), "the connection was not closed"
        assert 0.9 <= took < 1.5, took
        if slow.body:  # the status arrived in time: the attempt has its answer
            assert result.status_code == 200 and result.error is None
        else:
            assert result.status_code is None and result.error == "timeout after 1 s"


def test_a_trickling_receiver_delays_no_one_and_is_attempted_once_per_lease(
    sessions: Sessions,
    trickler: Callable[..., Trickler],
    receiver: Callable[..., Any],
    make_delivery: Callable[..., str],
) -> None:
    slow, hook = trickler(), receiver(200)
    policy = DeliveryRetryPolicy(schedule=(3600,))  # no second attempt within the test

    def dispatcher() -> WebhookDispatcher:
        transport = HttpTransport(timeout=DEADLINE)
        return WebhookDispatcher(sessions, allow_private=True, transport=transport, policy=policy)

    slow_id = make_delivery(slow.url(), tenant="slowco")
    first, stop = dispatcher(), threading.Event()
    loop = first.start(stop, poll_interval=0.05)
    try:
        assert slow.opened.wait(10), "the trickler was never attempted"
        attempt_started = utcnow()
        leased, _ = _delivery(sessions, slow_id)
        assert leased.lease_owner == first.owner and leased.lease_expires_at is not None
        assert leased.lease_expires_at - attempt_started > timedelta(seconds=DEADLINE)

        # Another tenant's webhook, due now, goes out while the trickler is being attempted.
        on_time_id = make_delivery(hook.url(), tenant="acme")
        took = _wait_for(lambda: bool(hook.seen), "the other tenant's webhook")
        assert took < 1.0, f"the other tenant's webhook waited {took:.2f} s"
        assert not slow.closed.is_set(), "the trickler's attempt should still be open"

        # A second dispatcher started during the attempt leaves the leased row alone.
        second = dispatcher().deliver_due()
        assert slow_id not in {r.delivery_id for r in second}

        assert slow.closed.wait(10), "the attempt never ended"
        (duration,) = slow.durations
        assert DEADLINE - 0.1 <= duration < DEADLINE + 1.0, duration
        _wait_for(lambda: _delivery(sessions, slow_id)[1] != [], "the attempt's record")
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()

    delivery, attempts = _delivery(sessions, slow_id)
    assert [(a.status_code, a.error) for a in attempts] == [(None, f"timeout after {DEADLINE:g} s")]
    assert attempts[0].duration_ms < (DEADLINE + 1.0) * 1000
    assert delivery.status is DeliveryStatus.PENDING and delivery.lease_owner is None
    assert delivery.next_attempt_at - attempts[0].attempted_at >= timedelta(seconds=3600)
    assert slow.connections == 1  # no duplicate attempt by either dispatcher
    assert _delivery(sessions, on_time_id)[0].status is DeliveryStatus.DELIVERED


def test_the_lease_outlives_every_attempt(sessions: Sessions) -> None:
    patient = HttpTransport(timeout=300)
    derived = WebhookDispatcher(sessions, transport=patient)
    assert derived.lease > timedelta(seconds=300)
    with pytest.raises(ValueError, match="lease"):
        WebhookDispatcher(sessions, transport=patient, lease=timedelta(seconds=60))


def test_a_dispatcher_claims_no_more_than_it_can_send_at_once(
    sessions: Sessions,
    trickler: Callable[..., Trickler],
    make_delivery: Callable[..., str],
) -> None:
    """A claimed row starts its attempt at once (its lease covers that attempt only); the
    rows it has no free slot for stay unclaimed, so another dispatcher sends them meanwhile."""
    slow = trickler()
    ids = {make_delivery(slow.url(), tenant=f"t{n}") for n in range(2)}

    def dispatcher() -> WebhookDispatcher:
        return WebhookDispatcher(
            sessions,
            allow_private=True,
            transport=HttpTransport(timeout=DEADLINE),
            concurrency=1,
            policy=DeliveryRetryPolicy(schedule=(3600,)),
        )

    reports: list[Any] = []
    first = threading.Thread(target=lambda: reports.extend(dispatcher().deliver_due()))
    first.start()
    try:
        assert slow.opened.wait(10)
        reports.extend(dispatcher().deliver_due())  # the row the first one has no slot for
    finally:
        first.join(20)
    assert sorted(r.delivery_id for r in reports) == sorted(ids)
    assert {r.outcome for r in reports} == {DeliveryOutcome.RETRY}
    assert slow.connections == 2


def test_one_tenant_never_holds_every_worker(
    sessions: Sessions,
    trickler: Callable[..., Trickler],
    receiver: Callable[..., Any],
    make_delivery: Callable[..., str],
) -> None:
    """A tenant whose receivers all trickle gets at most ``concurrency - 1`` workers: another
    tenant's webhook, due meanwhile, goes out on time."""
    slow, hook = trickler(), receiver(200)
    for _ in range(3):
        make_delivery(slow.url(), tenant="slowco")
    dispatcher = WebhookDispatcher(
        sessions,
        allow_private=True,
        transport=HttpTransport(timeout=DEADLINE),
        concurrency=2,
        policy=DeliveryRetryPolicy(schedule=(3600,)),
    )
    stop = threading.Event()
    loop = dispatcher.start(stop, poll_interval=0.05)
    try:
        assert slow.opened.wait(10), "the trickler was never attempted"
        make_delivery(hook.url(), tenant="acme")
        took = _wait_for(lambda: bool(hook.seen), "the other tenant's webhook")
        assert took < 1.0, f"the other tenant's webhook waited {took:.2f} s"
        assert slow.connections == 1
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
