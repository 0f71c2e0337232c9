"""The dispatcher end to end, on SQLite and PostgreSQL, against real receivers on 127.0.0.1
that verify every request with the ``standardwebhooks`` library."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from tradesweep.notify import (
    CircuitBreaker,
    DeliveryOutcome,
    HttpTransport,
    WebhookDispatcher,
    delivery_view,
)
from tradesweep.observe import Metrics
from tradesweep.store import (
    DeliveryStatus,
    JobStatus,
    JobType,
    OutboxRepository,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
)

Sessions = sessionmaker[Session]


def _dispatcher(sessions: Sessions, clock: Any, **kwargs: Any) -> WebhookDispatcher:
    kwargs.setdefault("allow_private", True)
    kwargs.setdefault("concurrency", 1)
    kwargs.setdefault("transport", HttpTransport(timeout=5))
    return WebhookDispatcher(sessions, clock=clock, **kwargs)


def _delivery(sessions: Sessions, delivery_id: str) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    with sessions() as s:
        delivery = s.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        return delivery, OutboxRepository(s).attempts(delivery_id)


def _secret(sessions: Sessions, tenant: str = "acme") -> str:
    with sessions() as s:
        secret = s.scalar(select(Tenant.webhook_secret).where(Tenant.name == tenant))
    assert secret and secret.startswith("whsec_")
    return secret


def _verified(sessions: Sessions, seen: Any, tenant: str = "acme") -> dict[str, Any]:
    return Webhook(_secret(sessions, tenant)).verify(seen.body, seen.headers)  # type: ignore[no-any-return]


def test_a_finished_sweep_is_posted_signed_and_recorded(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], finished_job: Callable[..., Any]
) -> None:
    hook = receiver(200)
    job = finished_job(hook.url())
    reports = _dispatcher(sessions, clock).deliver_due()
    assert [r.outcome for r in reports] == [DeliveryOutcome.DELIVERED]

    (seen,) = hook.seen
    body = _verified(sessions, seen)
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["webhook-id"] == reports[0].delivery_id
    assert seen.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert body["event_type"] == "sweep.completed"
    assert body["job_id"] == job.id
    assert body["status"] == "completed"
    assert body["ticker"] == "GOOGL"
    assert body["sweep_run_id"] == "run-1"
    assert body["result_data"]["sweep_run_id"] == "run-1"
    assert body["result_data"]["total_combinations"] == 42
    assert body["result_data"]["execution_time_seconds"] == 1.5
    assert body["result_data"]["completed_at"] and body["timestamp"]

    delivery, attempts = _delivery(sessions, reports[0].delivery_id)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 1 and delivery.delivered_at is not None
    assert delivery.lease_owner is None
    assert [(a.attempt, a.status_code, a.error) for a in attempts] == [(1, 200, None)]
    assert attempts[0].duration_ms is not None and attempts[0].duration_ms > 0


@pytest.mark.parametrize("type", [JobType.SWEEP, JobType.BACKTEST, JobType.WALKFORWARD])
def test_a_failed_job_announces_its_error(
    sessions: Sessions,
    clock: Any,
    receiver: Callable[..., Any],
    finished_job: Callable[..., Any],
    type: JobType,
) -> None:
    hook = receiver(204)
    job = finished_job(hook.url(), status=JobStatus.FAILED, type=type)
    _dispatcher(sessions, clock).deliver_due()
    body = _verified(sessions, hook.seen[0])
    assert body["event_type"] == f"{type.value}.failed"
    assert body["job_id"] == job.id and body["status"] == "failed"
    assert body["error_message"] == "data not found for ticker GOOGL"


def test_a_retry_carries_the_same_webhook_id_after_the_backoff(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(500, 200)
    delivery_id = make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock)

    (first,) = dispatcher.deliver_due()
    assert (first.outcome, first.attempt, first.status_code) == (DeliveryOutcome.RETRY, 1, 500)
    delivery, _ = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.last_error == "HTTP 500"
    wait = (delivery.next_attempt_at - clock.now).total_seconds()
    assert 5 <= wait <= 5.5  # first step of the schedule, jitter only stretches

    assert dispatcher.deliver_due() == []  # not due yet
    clock.advance(wait + 0.01)
    (second,) = dispatcher.deliver_due()
    assert second.outcome is DeliveryOutcome.DELIVERED

    assert [s.headers["webhook-id"] for s in hook.seen] == [delivery_id, delivery_id]
    assert hook.seen[0].body == hook.seen[1].body
    assert hook.seen[0].headers["webhook-timestamp"] != hook.seen[1].headers["webhook-timestamp"]
    for seen in hook.seen:
        _verified(sessions, seen)
    delivery, attempts = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.last_error is None
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 200)]


def test_410_gone_stops_retrying(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(410)
    delivery_id = make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock)
    (report,) = dispatcher.deliver_due()
    assert report.outcome is DeliveryOutcome.GONE
    clock.advance(3 * 24 * 3600)
    assert dispatcher.deliver_due() == []
    assert len(hook.seen) == 1
    delivery, attempts = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.GONE
    assert [a.status_code for a in attempts] == [410]
    assert "410" in (delivery.last_error or "")


def test_a_timeout_is_an_attempt_with_an_error(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver({"status": 200, "delay": 2.0})
    delivery_id = make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock, transport=HttpTransport(timeout=0.5))
    (report,) = dispatcher.deliver_due()
    assert report.outcome is DeliveryOutcome.RETRY
    delivery, attempts = _delivery(sessions, delivery_id)
    assert [(a.status_code, a.error) for a in attempts] == [(None, "timeout after 0.5 s")]
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_error == "timeout after 0.5 s"


def test_a_loopback_receiver_is_refused_unless_private_is_allowed(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    delivery_id = make_delivery(hook.url())
    (refused,) = _dispatcher(sessions, clock, allow_private=False).deliver_due()
    assert refused.outcome is DeliveryOutcome.REFUSED
    assert hook.seen == []  # the server is up: the guard, not the network, said no
    delivery, attempts = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.PENDING
    assert attempts[0].status_code is None
    assert attempts[0].error == "refused by the SSRF guard: address is loopback"

    clock.advance(10)
    (delivered,) = _dispatcher(sessions, clock, allow_private=True).deliver_due()
    assert delivered.outcome is DeliveryOutcome.DELIVERED and len(hook.seen) == 1


def test_a_name_resolving_to_loopback_is_refused_and_pinned_when_allowed(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    url = hook.url(host="hooks.partner.test")
    delivery_id = make_delivery(url)

    def dns(host: str, port: int) -> list[str]:  # only the DNS step is faked
        assert host == "hooks.partner.test"
        return ["127.0.0.1"]

    (refused,) = _dispatcher(sessions, clock, allow_private=False, resolver=dns).deliver_due()
    assert refused.outcome is DeliveryOutcome.REFUSED and hook.seen == []
    _, attempts = _delivery(sessions, delivery_id)
    assert "127.0.0.1" not in (attempts[0].error or "")  # no internal address shown

    clock.advance(10)
    (sent,) = _dispatcher(sessions, clock, allow_private=True, resolver=dns).deliver_due()
    assert sent.outcome is DeliveryOutcome.DELIVERED
    assert hook.seen[0].headers["host"] == f"hooks.partner.test:{hook.port}"
    _verified(sessions, hook.seen[0])


def test_a_redirect_is_a_failed_attempt_and_not_followed(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    elsewhere = receiver(200)
    hook = receiver({"status": 307, "headers": {"location": elsewhere.url("/internal")}})
    delivery_id = make_delivery(hook.url())
    (report,) = _dispatcher(sessions, clock).deliver_due()
    assert (report.outcome, report.status_code) == (DeliveryOutcome.RETRY, 307)
    assert elsewhere.seen == []
    _, attempts = _delivery(sessions, delivery_id)
    assert attempts[0].error == "HTTP 307: redirects are not followed"


def test_response_bodies_are_never_stored(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    leak = b"INTERNAL-STACKTRACE-" * 500
    hook = receiver({"status": 500, "body": leak}, {"status": 200, "body": leak})
    delivery_id = make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock)
    dispatcher.deliver_due()
    clock.advance(60)
    dispatcher.deliver_due()
    delivery, attempts = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.DELIVERED
    stored = repr(delivery_view(delivery, attempts)) + repr(
        [(a.status_code, a.error) for a in attempts]
    )
    assert "INTERNAL-STACKTRACE" not in stored
    with sessions() as s:
        rows = s.execute(select(WebhookAttempt.__table__)).all()  # every column of every row
    assert rows and "INTERNAL-STACKTRACE" not in repr(rows)


def test_an_open_breaker_stops_attempts_to_its_host_while_others_are_delivered(
    sessions: Sessions,
    clock: Any,
    receiver: Callable[..., Any],
    make_delivery: Callable[..., str],
    dead_port: int,
) -> None:
    live = receiver(200)
    dead_ids = [make_delivery(f"http://dead.test:{dead_port}/hook") for _ in range(4)]
    live_id = make_delivery(live.url(host="live.test"))
    metrics = Metrics()
    breaker = CircuitBreaker(failure_threshold=2, cool_off=timedelta(seconds=60), clock=clock)
    dispatcher = _dispatcher(
        sessions,
        clock,
        breaker=breaker,
        metrics=metrics,
        resolver=lambda host, port: ["127.0.0.1"],
    )

    outcomes = {r.delivery_id: r.outcome for r in dispatcher.deliver_due()}
    assert [outcomes[i] for i in dead_ids] == [
        DeliveryOutcome.RETRY,
        DeliveryOutcome.RETRY,
        DeliveryOutcome.DEFERRED,
        DeliveryOutcome.DEFERRED,
    ]
    assert outcomes[live_id] is DeliveryOutcome.DELIVERED
    for deferred in dead_ids[2:]:
        delivery, attempts = _delivery(sessions, deferred)
        assert delivery.attempts == 0 and attempts == []  # no attempt made
        assert delivery.lease_owner is None
        assert delivery.next_attempt_at == clock.now + timedelta(seconds=60)
    sample = metrics.registry.get_sample_value
    assert sample("pipeline_trading_webhook_breakers", {"state": "open"}) == 1
    assert sample("pipeline_trading_webhook_deliveries_total", {"outcome": "deferred"}) == 2
    assert sample("pipeline_trading_webhook_deliveries_total", {"outcome": "delivered"}) == 1

    clock.advance(61)  # half-open: one probe, it fails, the rest wait again
    outcomes = {r.delivery_id: r.outcome for r in dispatcher.deliver_due()}
    assert sorted(o.value for o in outcomes.values()) == ["deferred"] * 3 + ["retry"]
    assert sample("pipeline_trading_webhook_breakers", {"state": "open"}) == 1


def test_a_row_leased_by_a_dead_dispatcher_is_retried_after_the_lease_expires(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    delivery_id = make_delivery(hook.url())

    class Crash(Exception):
        pass

    class DiesMidSend:
        timeout = 1.0

        def send(self, *args: object) -> None:
            raise Crash("the process died here")

    doomed = _dispatcher(sessions, clock, transport=DiesMidSend(), lease=timedelta(seconds=30))
    assert doomed.deliver_due() == []  # the crash is logged, the row stays leased
    delivery, attempts = _delivery(sessions, delivery_id)
    assert delivery.lease_owner == doomed.owner and attempts == []

    survivor = _dispatcher(sessions, clock)
    assert survivor.deliver_due() == []  # still leased
    clock.advance(31)
    (report,) = survivor.deliver_due()
    assert report.outcome is DeliveryOutcome.DELIVERED and report.attempt == 1
    assert [s.headers["webhook-id"] for s in hook.seen] == [delivery_id]


def test_a_stale_lease_written_by_another_process_expires_too(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    delivery_id = make_delivery(hook.url())
    with sessions.begin() as s:
        s.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                lease_owner="gone-host:1:dead", lease_expires_at=clock.now + timedelta(seconds=5)
            )
        )
    dispatcher = _dispatcher(sessions, clock)
    assert dispatcher.deliver_due() == []
    clock.advance(6)
    assert [r.outcome for r in dispatcher.deliver_due()] == [DeliveryOutcome.DELIVERED]


def test_retries_span_more_than_a_day_then_the_delivery_fails(
    sessions: Sessions, clock: Any, make_delivery: Callable[..., str], dead_port: int
) -> None:
    delivery_id = make_delivery(f"http://127.0.0.1:{dead_port}/hook")
    never_opens = CircuitBreaker(failure_threshold=10_000, clock=clock)
    dispatcher = _dispatcher(sessions, clock, breaker=never_opens)
    outcomes = []
    for _ in range(50):
        reports = dispatcher.deliver_due()
        outcomes += [r.outcome for r in reports]
        delivery, _ = _delivery(sessions, delivery_id)
        if delivery.status is not DeliveryStatus.PENDING:
            break
        clock.now = max(clock.now, delivery.next_attempt_at)
    delivery, attempts = _delivery(sessions, delivery_id)
    policy = dispatcher.policy
    assert delivery.status is DeliveryStatus.FAILED
    assert outcomes == [DeliveryOutcome.RETRY] * (policy.max_attempts - 1) + [
        DeliveryOutcome.FAILED
    ]
    assert len(attempts) == delivery.attempts == policy.max_attempts >= 10
    assert attempts[-1].attempted_at - attempts[0].attempted_at >= timedelta(hours=24)
    assert all((a.error or "").startswith("connection failed") for a in attempts)
    clock.advance(7 * 24 * 3600)
    assert dispatcher.deliver_due() == []


def test_two_dispatchers_never_deliver_the_same_row_twice(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    ids = {make_delivery(hook.url()) for _ in range(12)}
    dispatchers = [_dispatcher(sessions, clock, concurrency=2) for _ in range(2)]
    reports: list[Any] = []
    lock = threading.Lock()

    def drain(dispatcher: WebhookDispatcher) -> None:
        while batch := dispatcher.deliver_due(limit=3):
            with lock:
                reports.extend(batch)

    threads = [threading.Thread(target=drain, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.delivery_id for r in reports) == sorted(ids)
    assert sorted(s.headers["webhook-id"] for s in hook.seen) == sorted(ids)


def test_the_loop_delivers_in_the_background_and_stops(
    sessions: Sessions, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(200)
    delivery_id = make_delivery(hook.url())
    stop = threading.Event()
    thread = WebhookDispatcher(sessions, allow_private=True).start(stop, poll_interval=0.05)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not hook.seen:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    delivery, _ = _delivery(sessions, delivery_id)
    assert delivery.status is DeliveryStatus.DELIVERED


def test_a_rotated_secret_signs_the_next_attempt(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    from tradesweep.notify import rotate_secret

    hook = receiver(500, 200)
    make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock)
    dispatcher.deliver_due()
    old = _secret(sessions)
    with sessions.begin() as s:
        tenant_id = s.scalar(select(Tenant.id).where(Tenant.name == "acme"))
        new = rotate_secret(s, tenant_id)  # type: ignore[arg-type]
    clock.advance(60)
    dispatcher.deliver_due()
    Webhook(old).verify(hook.seen[0].body, hook.seen[0].headers)
    Webhook(new).verify(hook.seen[1].body, hook.seen[1].headers)


def test_rows_locked_by_a_claiming_dispatcher_are_skipped_not_waited_for(
    engine: Engine,
    sessions: Sessions,
    clock: Any,
    receiver: Callable[..., Any],
    make_delivery: Callable[..., str],
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises whole transactions")
    hook = receiver(200)
    ids = sorted(make_delivery(hook.url()) for _ in range(3))
    reports: list[Any] = []
    with sessions.begin() as other:  # another dispatcher, mid-claim: holds a row lock
        other.execute(
            select(WebhookDelivery.id).where(WebhookDelivery.id == ids[0]).with_for_update()
        )
        worker = threading.Thread(
            target=lambda: reports.extend(_dispatcher(sessions, clock).deliver_due())
        )
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "the dispatcher waited on a locked row"
    assert sorted(r.delivery_id for r in reports) == ids[1:]
    assert sorted(s.headers["webhook-id"] for s in hook.seen) == ids[1:]


def test_the_deliveries_view_shows_state_and_every_attempt(
    sessions: Sessions, clock: Any, receiver: Callable[..., Any], make_delivery: Callable[..., str]
) -> None:
    hook = receiver(503, 200)
    delivery_id = make_delivery(hook.url())
    dispatcher = _dispatcher(sessions, clock)
    dispatcher.deliver_due()
    pending = delivery_view(*_delivery(sessions, delivery_id))
    assert pending["status"] == "pending" and pending["next_attempt_at"] is not None
    assert pending["last_error"] == "HTTP 503"
    clock.advance(60)
    dispatcher.deliver_due()
    view = delivery_view(*_delivery(sessions, delivery_id))
    assert view["webhook_id"] == delivery_id and view["event_type"] == "sweep.completed"
    assert (view["status"], view["attempts"], view["next_attempt_at"]) == ("delivered", 2, None)
    assert [(a["attempt"], a["status_code"], a["error"]) for a in view["attempt_log"]] == [
        (1, 503, "HTTP 503"),
        (2, 200, None),
    ]
    assert view["delivered_at"] is not None and "payload" not in view
