"""The worker: ``concurrency`` slots that claim jobs, run each attempt in a child process and
write how it ended, plus the heartbeat of the worker's row in ``workers``.

``run(stop)`` returns when ``stop`` is set and every slot is done: slots stop claiming at
once; a running attempt has ``Timings.shutdown_grace`` seconds to finish, then its compute is
asked to stop (``cancel_grace`` more seconds), killed, and the job goes back to the queue
without counting the attempt. ``abort`` skips both graces. Nothing here is global: the
session factory, clock, multiprocessing context and runtime settings are passed in.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from multiprocessing.context import BaseContext
from typing import TypeVar

from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from tradesweep.environment import RuntimeSettings
from tradesweep.jobs import finish
from tradesweep.jobs.child import compute_context, warm_up
from tradesweep.jobs.claim import ClaimedJob, claim_next
from tradesweep.jobs.lease import Lease, LeaseLost, hold
from tradesweep.jobs.policy import JobRetryPolicy
from tradesweep.jobs.registration import WorkerIdentity
from tradesweep.jobs.supervisor import (
    Cancelled,
    Completed,
    Ending,
    Failed,
    Released,
    Supervisor,
    Timings,
)
from tradesweep.observe import bound
from tradesweep.store.types import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
WRITE_ATTEMPTS = 3
"""Tries of a job's final write when the database is briefly unavailable (locked, restarting)."""


class Worker:
    """Claims and runs jobs from the database ``sessions`` points at.

    ``lease_seconds``: how long a claim lasts without renewal; the lease is renewed every
    ``min(1, lease_seconds / 3)`` s, which is also how quickly a cancel is noticed.
    ``cancel_grace``: seconds a cancelled compute has to stop by itself before it is killed;
    ``shutdown_grace``: seconds a running attempt has to finish once ``stop`` is set.
    ``compute_workers``: processes (or threads) each sweep uses; default the cores shared
    out among the slots.
    ``runtime``: the data dir, strategy plugins and defaults every job runs with (None: the
    environment, read once here, when the worker is made); the compute processes get these
    values and never read the environment themselves.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        poll_interval: float = 1.0,
        heartbeat_seconds: float = 5.0,
        retry: JobRetryPolicy | None = None,
        cancel_grace: float = 2.0,
        shutdown_grace: float = 5.0,
        compute_workers: int | None = None,
        identity: WorkerIdentity | None = None,
        clock: Clock = utcnow,
        context: BaseContext | None = None,
        runtime: RuntimeSettings | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if lease_seconds <= 0 or poll_interval <= 0:
            raise ValueError("lease_seconds and poll_interval must be positive")
        self.sessions = sessions
        self.concurrency = concurrency
        self.lease_seconds = float(lease_seconds)
        self.poll_interval = float(poll_interval)
        self.heartbeat_seconds = float(heartbeat_seconds)
        self.retry = retry or JobRetryPolicy()
        self.timings = Timings(
            renew_interval=min(1.0, self.lease_seconds / 3),
            cancel_grace=cancel_grace,
            shutdown_grace=shutdown_grace,
        )
        self.compute_workers = compute_workers or max(1, (os.cpu_count() or 1) // concurrency)
        self.identity = identity or WorkerIdentity.new(concurrency)
        self.clock = clock
        self.context = context or compute_context()
        self.runtime = runtime or RuntimeSettings.from_environ(os.environ)

    @property
    def id(self) -> str:
        return self.identity.id

    def run(self, stop: threading.Event, abort: threading.Event | None = None) -> None:
        """Work until ``stop`` is set (see the module docstring), then unregister."""
        abort = abort or threading.Event()
        self._write(lambda session: self.identity.register(session, self.clock()))
        warm_up(self.context)
        log.info(
            "worker %s: %d slot(s), lease %g s, %d compute worker(s) per job",
            self.id,
            self.concurrency,
            self.lease_seconds,
            self.compute_workers,
        )
        slots = [
            threading.Thread(target=self._slot, args=(stop, abort), name=f"slot-{n}")
            for n in range(self.concurrency)
        ]
        for slot in slots:
            slot.start()
        try:
            next_beat = time.monotonic() + self.heartbeat_seconds
            while any(slot.is_alive() for slot in slots):
                time.sleep(0.2)
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.heartbeat_seconds
                    self._beat()
        finally:
            stop.set()
            for slot in slots:
                slot.join()
            try:
                self._write(self.identity.unregister)
            except SQLAlchemyError as exc:
                log.warning("worker %s: could not unregister: %s", self.id, exc)
            log.info("worker %s: stopped", self.id)

    def claim_next(self) -> ClaimedJob | None:
        """Claim one job for this worker (one transaction), or None when none is due."""
        with self.sessions.begin() as session:
            return claim_next(session, self.id, self.lease_seconds, self.clock())

    def run_job(
        self,
        job: ClaimedJob,
        stop: threading.Event | None = None,
        abort: threading.Event | None = None,
    ) -> Ending | None:
        """Run one claimed attempt and write how it ended; None when the lease was lost (and
        nothing was written). Every line logged meanwhile carries ``job_id``."""
        with bound(job_id=job.id):
            return self._run_job(job, stop, abort)

    def _run_job(
        self, job: ClaimedJob, stop: threading.Event | None, abort: threading.Event | None
    ) -> Ending | None:
        log.info("job %s (%s): attempt %d of %d", job.id, job.type, job.attempt, job.max_attempts)
        lease = Lease(self.sessions, job.id, self.id, self.lease_seconds, self.clock)
        supervisor = Supervisor(
            job,
            lease,
            context=self.context,
            timings=self.timings,
            stop=stop or threading.Event(),
            abort=abort or threading.Event(),
            compute_workers=self.compute_workers,
            runtime=self.runtime,
        )
        try:
            ending = supervisor.run()
            if isinstance(ending, Completed):
                self._storing(lease)
            try:
                outcome = self._write(lambda session: self._end(session, job, ending))
            except (LeaseLost, OperationalError):
                raise
            except Exception as exc:
                # The results could not be stored (the transaction rolled back, nothing of
                # them is kept): a failed attempt like any other, retried per the policy.
                log.exception("job %s: storing how the attempt ended failed", job.id)
                ending = Failed(f"StoreError: {type(exc).__name__}: {exc}", retryable=True)
                outcome = self._write(lambda session: self._end(session, job, ending))
        except LeaseLost:
            log.warning(
                "job %s: worker %s lost its lease; this attempt's work is dropped", job.id, self.id
            )
            return None
        log.info("job %s: %s", job.id, outcome)
        return ending

    def _end(self, session: Session, job: ClaimedJob, ending: Ending) -> str:
        """Write how the attempt ended (fenced); say what became of the job."""
        now = self.clock()
        held = hold(session, job.id, self.id, now)
        if isinstance(ending, Completed):
            finish.complete(session, held, ending.outcome, now)
        elif isinstance(ending, Cancelled):
            finish.cancel(session, held, now)
        elif isinstance(ending, Released):
            finish.release(session, held, now)
        elif self.retry.should_retry(held.attempts, held.max_attempts, retryable=ending.retryable):
            delay = timedelta(seconds=self.retry.delay(held.attempts))
            finish.retry(session, held, ending.reason, now + delay, now)
        else:
            finish.fail(session, held, ending.reason, now)
        status = held.status.value
        if isinstance(ending, Failed):
            attempt = f"attempt {job.attempt} of {held.max_attempts}"
            status = f"{status} after {attempt} ({ending.reason})"
        elif isinstance(ending, Released):
            status = f"{status} again (the worker is stopping)"
        return status

    def _storing(self, lease: Lease) -> None:
        """Say that the results are being stored (a large sweep's rows take a while); the
        attempt goes on if the database does not answer: storing them will find out."""
        try:
            lease.renew((1, 1, "storing results"))
        except SQLAlchemyError as exc:
            log.warning("job %s: cannot log the storing phase: %s", lease.job_id, exc)

    def _slot(self, stop: threading.Event, abort: threading.Event) -> None:
        while not stop.is_set():
            try:
                job = self.claim_next()
            except SQLAlchemyError as exc:
                log.warning("worker %s: cannot claim: %s", self.id, exc)
                stop.wait(self.poll_interval)
                continue
            if job is None:
                stop.wait(self.poll_interval)
                continue
            try:
                self.run_job(job, stop, abort)
            except Exception:
                # Nothing was written for this attempt; the lease runs out and the job is
                # claimed again (a counted attempt).
                log.exception("job %s: the worker failed to run it", job.id)
                stop.wait(self.poll_interval)

    def _beat(self) -> None:
        try:
            self._write(lambda session: self.identity.beat(session, self.clock()))
        except SQLAlchemyError as exc:
            log.warning("worker %s: heartbeat failed: %s", self.id, exc)

    def _write(self, write: Callable[[Session], T]) -> T:
        """``write`` in one transaction, tried again on a transient database error."""
        retrying = Retrying(
            stop=stop_after_attempt(WRITE_ATTEMPTS),
            wait=wait_fixed(0.5),
            retry=retry_if_exception_type(OperationalError),
            reraise=True,
        )
        return retrying(self._transaction, write)

    def _transaction(self, write: Callable[[Session], T]) -> T:
        with self.sessions.begin() as session:
            return write(session)
