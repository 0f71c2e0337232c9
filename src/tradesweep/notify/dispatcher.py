"""The webhook dispatcher: drains the outbox (``webhook_deliveries``) with signed POSTs.

A round (:meth:`WebhookDispatcher.deliver_due`):

1. **claim** due PENDING rows under a lease, in one short transaction (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL so several dispatchers share the work; SQLite's ``BEGIN IMMEDIATE``
   serialises claimers). A dispatcher claims only as many rows as it has free workers, so
   each claimed row is sent at once. A dispatcher that dies leaves its lease to expire; the
   row is then claimed again, so nothing is lost.
2. **check** the URL with the SSRF guard and the host's circuit breaker; an open breaker
   reschedules the row for when the breaker half-opens, without counting an attempt.
3. **send** outside any transaction, each delivery in a worker thread of its own (at most
   ``concurrency`` at once): Standard Webhooks headers signed with the tenant's secret, the
   same ``webhook-id`` every time, pinned to the checked address. The transport's
   ``timeout`` is one deadline for the whole attempt, so a slow receiver holds one worker
   for at most that long and never delays the others' deliveries; one tenant holds at most
   ``concurrency - 1`` workers, so another tenant's webhook always finds one. The lease is
   always longer than that deadline plus :data:`LEASE_MARGIN` (checked when the dispatcher
   is made), so no second dispatcher takes a row while its attempt is still open.
4. **record** a :class:`~tradesweep.store.WebhookAttempt` for every try, then: 2xx ->
   DELIVERED; 410 -> GONE (no more tries); anything else (other status, timeout, connection
   error, refused by the guard) -> PENDING again after the :class:`DeliveryRetryPolicy` delay, or
   FAILED once the attempts are spent.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.notify.breaker import BreakerState, CircuitBreaker
from tradesweep.notify.policy import DeliveryRetryPolicy
from tradesweep.notify.signing import encode_body, ensure_secret, signed_headers
from tradesweep.notify.ssrf import (
    Resolver,
    UnsafeWebhookURL,
    allow_private_from_env,
    resolve_destination,
    system_resolver,
    validate_webhook_url,
)
from tradesweep.notify.transport import HttpTransport, SendResult, Transport
from tradesweep.observe.logging import bound, get_logger
from tradesweep.observe.prometheus import Metrics
from tradesweep.store import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tradesweep.store.types import utcnow

log = get_logger(__name__)

DEFAULT_LEASE = timedelta(minutes=2)
"""The lease of a claimed row, unless the transport's deadline needs a longer one."""
LEASE_MARGIN = timedelta(seconds=15)
"""What a lease holds beyond the attempt's deadline: the DNS check, signing, recording."""


class DeliveryOutcome(str, Enum):  # noqa: UP042
    DELIVERED = "delivered"  # 2xx
    GONE = "gone"  # 410: the receiver asked us to stop
    RETRY = "retry"  # failed attempt, rescheduled
    REFUSED = "refused"  # the SSRF guard refused the URL; rescheduled like a failure
    FAILED = "failed"  # attempts spent
    DEFERRED = "deferred"  # breaker open: rescheduled without an attempt
    SKIPPED = "skipped"  # the row changed hands meanwhile; nothing written by us


@dataclass(frozen=True)
class DeliveryReport:
    """What one round did with one delivery."""

    delivery_id: str
    outcome: DeliveryOutcome
    attempt: int | None = None  # the attempt number recorded, None when none was made
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Claimed:
    id: str
    job_id: str
    tenant_id: int
    url: str
    payload: dict[str, Any]
    secret: str


_Running = dict[Future[DeliveryReport | None], int]
"""Attempts in flight: each one's future and the tenant it is for."""


class WebhookDispatcher:
    """Delivers the outbox. Collaborators are passed in: ``sessions`` (a session factory),
    ``clock`` (aware UTC now; it also stamps ``webhook-timestamp``), ``transport`` (default
    :class:`HttpTransport`, a 10 s deadline per attempt), ``policy`` (retry schedule),
    ``breaker`` (per-host circuit breaker, in this process), ``resolver`` (the DNS step of the
    SSRF guard), ``allow_private`` (default ``$TRADESWEEP_WEBHOOK_ALLOW_PRIVATE``),
    ``metrics``. ``lease``: how long a claimed row is ours (default: :data:`DEFAULT_LEASE`, or
    the transport's deadline + :data:`LEASE_MARGIN` when that is longer); a shorter lease
    than that is refused (ValueError).

    Up to ``concurrency`` deliveries are sent at once, each in its own worker thread
    (``deliver_due`` with 1: in the caller's thread, in order).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utcnow,
        transport: Transport | None = None,
        policy: DeliveryRetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        resolver: Resolver = system_resolver,
        allow_private: bool | None = None,
        metrics: Metrics | None = None,
        lease: timedelta | None = None,
        concurrency: int = 4,
        owner: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.transport: Transport = transport or HttpTransport()
        self.policy = policy or DeliveryRetryPolicy()
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self.resolver = resolver
        self.allow_private = allow_private_from_env() if allow_private is None else allow_private
        self.metrics = metrics
        self.lease = _lease(lease, self.transport.timeout)
        self.concurrency = max(1, concurrency)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.rng = rng or random.Random()
        self._chain_listener()

    # -- the loop -------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, poll_interval: float = 1.0, batch: int = 50) -> None:
        """Deliver until ``stop`` is set. Whenever a worker is free, due rows are claimed (at
        most ``batch`` at a time, never more than the free workers) and each is sent in its
        own worker, so a slow receiver holds one worker (for at most the transport's deadline)
        and the other deliveries go on. With nothing due, or every worker busy, it waits up
        to ``poll_interval`` seconds (less when a worker frees up). Errors are logged and the
        loop goes on (leases expire). Once stopped, the attempts in flight end (each within
        its deadline) and are recorded."""
        log.info("webhook_dispatcher_started", owner=self.owner, allow_private=self.allow_private)
        freed = threading.Event()
        running: _Running = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook") as pool:
            while not stop.is_set():
                freed.clear()
                running = {f: tenant for f, tenant in running.items() if not f.done()}
                try:
                    started = self._start_due(pool, running, batch)
                except Exception:
                    log.exception("webhook_round_failed")
                    started = []
                for future in started:
                    future.add_done_callback(lambda _: freed.set())
                if started and len(running) < self.concurrency:
                    continue  # more may be due
                freed.wait(poll_interval)
        log.info("webhook_dispatcher_stopped", owner=self.owner)

    def start(self, stop: threading.Event, **kwargs: Any) -> threading.Thread:
        """:meth:`run` in a daemon thread (how ``tradesweep serve`` can host it)."""
        thread = threading.Thread(
            target=self.run, args=(stop,), kwargs=kwargs, name="webhook-dispatcher", daemon=True
        )
        thread.start()
        return thread

    def deliver_due(self, limit: int = 50) -> list[DeliveryReport]:
        """One round: try up to ``limit`` due deliveries, each at most once, and wait for
        them. Rows are claimed only as workers free up (``concurrency`` sent at once), so a
        claimed row is sent at once and never waits for its turn while its lease runs."""
        reports: list[DeliveryReport] = []
        tried: set[str] = set()
        if self.concurrency == 1:
            while len(tried) < limit and (claimed := self._claim(1, skip=tried)):
                tried.add(claimed[0].id)
                if (report := self._safely(claimed[0])) is not None:
                    reports.append(report)
            return reports
        running: _Running = {}
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook") as pool:
            while True:
                self._start_due(pool, running, limit - len(tried), tried)
                if not running:
                    return reports
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    del running[future]
                    if (report := future.result()) is not None:
                        reports.append(report)

    def _start_due(
        self, pool: ThreadPoolExecutor, running: _Running, most: int, tried: set[str] | None = None
    ) -> list[Future[DeliveryReport | None]]:
        """Claim up to ``most`` due rows, no more than the free workers, and start each in a
        worker (added to ``running``, and to ``tried``). One tenant holds at most
        ``concurrency - 1`` workers, so another tenant's webhook always finds one."""
        free = min(self.concurrency - len(running), most)
        if free <= 0:
            return []
        held = Counter(running.values())
        started = []
        for delivery in self._claim(free, skip=tried or (), held=held):
            if tried is not None:
                tried.add(delivery.id)
            started.append(pool.submit(self._safely, delivery))
            running[started[-1]] = delivery.tenant_id
        return started

    # -- claim ----------------------------------------------------------------------------

    def _claim(
        self, limit: int, *, skip: Collection[str] = (), held: Counter[int] | None = None
    ) -> list[_Claimed]:
        """Lease up to ``limit`` due rows (not those in ``skip``). With ``held`` (workers in
        use per tenant), no tenant is given more than ``concurrency - 1`` workers in all; the
        rows left over stay unleased for the next claim."""
        now = self.clock()
        held = Counter(held or {})
        cap = max(1, self.concurrency - 1)
        full = [tenant for tenant, n in held.items() if n >= cap]
        with self.sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(WebhookDelivery)
                    .where(
                        WebhookDelivery.status == DeliveryStatus.PENDING,
                        WebhookDelivery.next_attempt_at <= now,
                        or_(
                            WebhookDelivery.lease_expires_at.is_(None),
                            WebhookDelivery.lease_expires_at <= now,
                        ),
                        WebhookDelivery.id.not_in(skip) if skip else true(),
                        WebhookDelivery.tenant_id.not_in(full) if full else true(),
                    )
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)  # not rendered on SQLite
                )
            )
            if self.concurrency > 1:
                rows = [row for row in rows if _take(held, row.tenant_id, cap)]
            secrets: dict[int, str] = {}
            for row in rows:
                row.lease_owner = self.owner
                row.lease_expires_at = now + self.lease
                if row.tenant_id not in secrets:
                    secrets[row.tenant_id] = ensure_secret(session, row.tenant_id)
            return [
                _Claimed(r.id, r.job_id, r.tenant_id, r.url, dict(r.payload), secrets[r.tenant_id])
                for r in rows
            ]

    # -- one delivery ---------------------------------------------------------------------

    def _safely(self, claimed: _Claimed) -> DeliveryReport | None:
        try:
            with bound(job_id=claimed.job_id, tenant_id=claimed.tenant_id, webhook_id=claimed.id):
                return self._deliver(claimed)
        except Exception:
            # Left leased: another round takes it again once the lease expires.
            log.exception("webhook_delivery_crashed", webhook_id=claimed.id)
            return None

    def _deliver(self, claimed: _Claimed) -> DeliveryReport:
        try:
            parsed = validate_webhook_url(claimed.url, allow_private=self.allow_private)
        except UnsafeWebhookURL as exc:
            return self._refused(claimed, exc)
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")  # the breaker's key

        retry_at = self.breaker.allow(host)
        if retry_at is not None:
            return self._defer(claimed, retry_at, host)

        try:
            destination = resolve_destination(
                claimed.url, allow_private=self.allow_private, resolver=self.resolver
            )
        except UnsafeWebhookURL as exc:
            self.breaker.release(host)
            return self._refused(claimed, exc)

        attempted_at = self.clock()
        body = encode_body(claimed.payload)
        headers = signed_headers(claimed.secret, claimed.id, attempted_at, body)
        result = self.transport.send(destination, body, headers)
        if _is_failure(result):
            self.breaker.record_failure(host)
        else:
            self.breaker.record_success(host)
        return self._record(claimed, result, attempted_at)

    def _refused(self, claimed: _Claimed, exc: UnsafeWebhookURL) -> DeliveryReport:
        # The reason names no resolved address; the log line is for operators.
        log.warning("webhook_refused", reason=exc.reason)
        result = SendResult(None, f"refused by the SSRF guard: {exc.reason}", 0.0)
        return self._record(claimed, result, self.clock(), refused=True)

    def _defer(self, claimed: _Claimed, retry_at: datetime, host: str) -> DeliveryReport:
        with self.sessions.begin() as session:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == claimed.id, WebhookDelivery.lease_owner == self.owner)
                .values(next_attempt_at=retry_at, lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )
        log.info("webhook_deferred", host=host, until=retry_at.isoformat())
        self._count(DeliveryOutcome.DEFERRED)
        return DeliveryReport(claimed.id, DeliveryOutcome.DEFERRED)

    def _record(
        self,
        claimed: _Claimed,
        result: SendResult,
        attempted_at: datetime,
        *,
        refused: bool = False,
    ) -> DeliveryReport:
        error = result.error or _status_error(result.status_code)
        with self.sessions.begin() as session:
            row = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id == claimed.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one_or_none()
            if row is None:  # its job was deleted meanwhile
                return DeliveryReport(claimed.id, DeliveryOutcome.SKIPPED)
            # Every attempt made is recorded, whoever holds the row now.
            row.attempts += 1
            session.add(
                WebhookAttempt(
                    delivery_id=row.id,
                    attempt=row.attempts,
                    attempted_at=attempted_at,
                    status_code=result.status_code,
                    error=error,
                    duration_ms=result.duration_ms,
                )
            )
            outcome = self._next_state(row, result, error, refused=refused)
            attempt = row.attempts
        self._count(outcome, result)
        log.info(
            "webhook_attempt",
            attempt=attempt,
            outcome=outcome.value,
            status_code=result.status_code,
            error=error,
            duration_ms=result.duration_ms,
        )
        return DeliveryReport(claimed.id, outcome, attempt, result.status_code, error)

    def _next_state(
        self, row: WebhookDelivery, result: SendResult, error: str | None, *, refused: bool
    ) -> DeliveryOutcome:
        now = self.clock()
        if row.status is not DeliveryStatus.PENDING:
            return DeliveryOutcome.SKIPPED  # another dispatcher finished it
        if result.ok:
            row.status, row.delivered_at, row.last_error = DeliveryStatus.DELIVERED, now, None
            self._release(row)
            return DeliveryOutcome.DELIVERED
        row.last_error = error
        if result.status_code == 410:
            row.status = DeliveryStatus.GONE
            self._release(row)
            return DeliveryOutcome.GONE
        if row.lease_owner != self.owner:
            # Our lease ran out and another dispatcher holds the row: it schedules.
            log.warning("webhook_lease_lost", holder=row.lease_owner)
            return DeliveryOutcome.SKIPPED
        delay = self.policy.delay(row.attempts, self.rng)
        self._release(row)
        if delay is None:
            row.status = DeliveryStatus.FAILED
            return DeliveryOutcome.FAILED
        row.next_attempt_at = now + delay
        return DeliveryOutcome.REFUSED if refused else DeliveryOutcome.RETRY

    @staticmethod
    def _release(row: WebhookDelivery) -> None:
        row.lease_owner = None
        row.lease_expires_at = None

    # -- metrics --------------------------------------------------------------------------

    def _count(self, outcome: DeliveryOutcome, result: SendResult | None = None) -> None:
        if self.metrics is None or outcome is DeliveryOutcome.SKIPPED:
            return
        seconds = None
        if result is not None and (result.status_code is not None or result.duration_ms):
            seconds = result.duration_ms / 1000.0
        self.metrics.webhook_outcome(outcome.value, seconds)

    def _chain_listener(self) -> None:
        previous = self.breaker.listener

        def on_change(host: str, old: BreakerState, new: BreakerState) -> None:
            log.warning("webhook_breaker", host=host, old=old.value, new=new.value)
            if self.metrics is not None:
                counts = {state.value: n for state, n in self.breaker.counts().items()}
                self.metrics.breaker_changed(new.value, counts)
            if previous is not None:
                previous(host, old, new)

        self.breaker.listener = on_change


def _take(held: Counter[int], tenant_id: int, cap: int) -> bool:
    """Count one more worker for ``tenant_id`` unless it already holds ``cap``."""
    if held[tenant_id] >= cap:
        return False
    held[tenant_id] += 1
    return True


def _lease(lease: timedelta | None, timeout: float) -> timedelta:
    """The lease for attempts of at most ``timeout`` seconds: ``lease`` when it outlives one
    (with :data:`LEASE_MARGIN`), else ValueError; by default :data:`DEFAULT_LEASE` or longer."""
    least = timedelta(seconds=timeout) + LEASE_MARGIN
    if lease is None:
        return max(DEFAULT_LEASE, least)
    if lease < least:
        raise ValueError(
            f"a delivery lease of {lease.total_seconds():g} s would expire while an attempt "
            f"(up to {timeout:g} s) is still open: give at least {least.total_seconds():g} s"
        )
    return lease


def _is_failure(result: SendResult) -> bool:
    """Counts against the host's breaker: no answer, a 5xx or a 429."""
    code = result.status_code
    return code is None or code >= 500 or code == 429


def _status_error(status_code: int | None) -> str | None:
    if status_code is None or 200 <= status_code < 300:
        return None
    if status_code == 410:
        return "HTTP 410 Gone: the receiver asked us to stop; no more attempts"
    if 300 <= status_code < 400:
        return f"HTTP {status_code}: redirects are not followed"
    return f"HTTP {status_code}"
