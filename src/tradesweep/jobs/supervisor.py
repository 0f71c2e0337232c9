"""One attempt of one job: the compute runs in a child process, the worker thread watches it.

Every tick (a fraction of a second) the supervisor reads what the child sent, renews the
lease when due (which also says whether a cancel was asked for), reads the cancel flag every
``cancel_poll`` in between (so a cancel reaches the compute within about half a second, however
large the sweep) and writes progress at most every ``progress_interval`` (the 100 % report and
the start of each later phase, such as the diagnostics, always). It ends the attempt with an
:data:`Ending`, or raises :class:`~tradesweep.jobs.lease.LeaseLost`; in every case the child
is asked to stop and given ``cancel_grace`` to exit cleanly, then its process group is killed,
before it returns. A failure's reason goes to the job's tenant, so
it names files without their server folders (:func:`public_reason`); the log has it whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from tradesweep.environment import RuntimeSettings
from tradesweep.jobs.child import ChildFailure, child_main, kill_group
from tradesweep.jobs.claim import ClaimedJob
from tradesweep.jobs.lease import Lease, LeaseLost
from tradesweep.services.execute import Outcome

log = logging.getLogger(__name__)

TICK_SECONDS = 0.2
JOIN_SECONDS = 5.0
_FOLDERS = re.compile(r"(?<![\w.:/~-])/(?:[^\s'\"/]+/)+")
"""The folders of an absolute path (``/srv/data/`` of ``/srv/data/GOOGL.csv``), not of a URL
(``https://host/a/``) or a ratio (``10/20``)."""


def public_reason(reason: str) -> str:
    """``reason`` with every absolute path cut to its last part: what a tenant may read."""
    return _FOLDERS.sub("", reason)


@dataclass(frozen=True)
class Timings:
    """When the supervisor acts, in seconds (policy as data)."""

    renew_interval: float = 1.0
    progress_interval: float = 0.5
    cancel_poll: float = 0.25
    cancel_grace: float = 2.0
    shutdown_grace: float = 5.0


@dataclass(frozen=True)
class Completed:
    outcome: Outcome


@dataclass(frozen=True)
class Failed:
    reason: str
    retryable: bool


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class Released:
    """The worker is stopping and the attempt did not finish within the grace."""


Ending = Completed | Failed | Cancelled | Released


class Supervisor:
    def __init__(
        self,
        job: ClaimedJob,
        lease: Lease,
        *,
        context: BaseContext,
        timings: Timings,
        stop: threading.Event,
        abort: threading.Event,
        compute_workers: int | None = None,
        runtime: RuntimeSettings | None = None,
    ) -> None:
        self.job, self.lease, self.context, self.timings = job, lease, context, timings
        self.stop, self.abort = stop, abort
        self.compute_workers = compute_workers
        self.runtime = runtime
        self._cancel_asked: float | None = None  # when the child was asked to stop
        self._renewed = 0.0  # when the lease was last renewed

    def run(self) -> Ending:
        """Run the attempt to its end; the child is gone when this returns or raises."""
        conn, child_conn = self.context.Pipe(duplex=True)
        process: Any = self.context.Process(  # type: ignore[attr-defined]
            target=child_main,
            args=(
                self.job.type,
                self.job.spec,
                child_conn,
                os.getpid(),
                self.compute_workers,
                self.job.tenant_id,
                self.runtime,
            ),
            name=f"tradesweep-job-{self.job.id}",
        )
        process.start()
        child_conn.close()  # the child holds the only other end: EOF when it is gone
        self._cancel_asked, self._renewed = None, time.monotonic()
        try:
            return self._watch(process, conn)
        finally:
            self._end(process, conn)

    def _end(self, process: Any, conn: Connection) -> None:
        """Let the child exit by itself first: asked to stop, it shuts its sweep's process
        pool down and unlinks the pool's semaphores (a SIGKILLed child leaves them to the
        resource tracker, which warns about "leaked semaphore objects" when the worker exits).
        It has ``cancel_grace`` from the first time it was asked; then its whole group is
        killed, stragglers included. A second SIGTERM (``abort``) kills at once."""
        if not self.abort.is_set() and process.is_alive():
            if self._cancel_asked is None:
                self._ask_cancel(conn)
            assert self._cancel_asked is not None
            self._wait_for_exit(process, until=self._cancel_asked + self.timings.cancel_grace)
        kill_group(process.pid)
        process.kill()
        process.join(JOIN_SECONDS)
        conn.close()

    def _wait_for_exit(self, process: Any, until: float) -> None:
        """Wait until ``until`` at most for the child to exit, keeping the lease meanwhile
        (the attempt's ending is not written yet)."""
        while process.is_alive() and (now := time.monotonic()) < until:
            process.join(min(TICK_SECONDS, until - now))
            if time.monotonic() - self._renewed >= self.timings.renew_interval:
                try:
                    self._renew(None)
                except LeaseLost:
                    return  # the caller raises it, or will find out when it writes

    def _ask_cancel(self, conn: Connection) -> None:
        _ask(conn, "cancel")
        self._cancel_asked = time.monotonic()

    def _watch(self, process: Any, conn: Connection) -> Ending:
        t = self.timings
        started = time.monotonic()
        deadline = started + self.job.timeout_seconds
        last_renew = last_progress = last_poll = started
        pending: tuple[int, int, str] | None = None
        cancel_deadline: float | None = None
        stop_deadline: float | None = None
        while True:
            message = self._receive(process, conn)
            now = time.monotonic()
            if message is not None:
                kind = message[0]
                if kind == "progress":
                    pending = (message[1], message[2], message[3])
                elif kind == "done":
                    if pending is not None and pending[0] >= pending[1]:
                        self._renew(pending)  # the 100 % report, before the end
                    return Completed(message[1])
                elif kind == "cancelled":
                    return Cancelled()
                elif kind == "failed":
                    failure: ChildFailure = message[1]
                    if failure.retryable:  # bad input needs no traceback: the reason says it
                        log.warning(
                            "job %s attempt %d raised:\n%s",
                            self.job.id,
                            self.job.attempt,
                            failure.traceback,
                        )
                    elif public_reason(failure.reason) != failure.reason:
                        log.info("job %s failed: %s", self.job.id, failure.reason)
                    return Failed(public_reason(failure.reason), failure.retryable)
                elif kind == "exited":
                    return Failed(
                        f"ComputeProcessDied: the compute process exited with code "
                        f"{process.exitcode} before reporting a result",
                        retryable=True,
                    )

            final = pending is not None and pending[0] >= pending[1]
            progress_due = pending is not None and (
                final or now - last_progress >= t.progress_interval
            )
            if progress_due or now - last_renew >= t.renew_interval:
                renewed = self._renew(pending if progress_due else None)
                last_renew = now
                if renewed is None:  # the database is away: try again next time
                    continue
                cancel_requested = renewed
                if progress_due:
                    pending, last_progress = None, now
                if cancel_requested and cancel_deadline is None:
                    log.info("job %s: cancel requested, stopping the compute", self.job.id)
                    self._ask_cancel(conn)
                    cancel_deadline = now + t.cancel_grace

            if cancel_deadline is None and now - last_poll >= t.cancel_poll:
                last_poll = now
                if self._cancel_requested():
                    log.info("job %s: cancel requested, stopping the compute", self.job.id)
                    self._ask_cancel(conn)
                    cancel_deadline = now + t.cancel_grace

            if cancel_deadline is not None and now >= cancel_deadline:
                return Cancelled()
            if now >= deadline:
                return Failed(
                    f"Timeout: the job ran longer than its timeout of "
                    f"{self.job.timeout_seconds} s and was stopped",
                    retryable=False,
                )
            if self.abort.is_set():
                return Released()
            if self.stop.is_set():
                if stop_deadline is None:
                    stop_deadline = now + t.shutdown_grace
                elif now >= stop_deadline:
                    return Released()

    def _cancel_requested(self) -> bool:
        try:
            return self.lease.cancel_requested()
        except SQLAlchemyError:  # the database is away: the next renewal says so
            return False

    def _renew(self, progress: tuple[int, int, str] | None) -> bool | None:
        """Renew the lease (see :meth:`Lease.renew`); None when the database did not answer.
        Raises :class:`LeaseLost`."""
        try:
            renewed = self.lease.renew(progress)
        except SQLAlchemyError as exc:
            log.warning("job %s: cannot renew the lease: %s", self.job.id, exc)
            return None
        self._renewed = time.monotonic()
        return renewed

    @staticmethod
    def _receive(process: Any, conn: Connection) -> tuple[Any, ...] | None:
        """The child's next message, ``("exited",)`` once it is gone without one, else None
        after at most a tick."""
        ready = wait([conn, process.sentinel], timeout=TICK_SECONDS)
        if conn in ready or conn.poll():
            try:
                return tuple(conn.recv())
            except (EOFError, ConnectionResetError):
                return ("exited",)
        if process.sentinel in ready:
            return ("exited",)
        return None


def _ask(conn: Connection, message: str) -> None:
    with contextlib.suppress(OSError):  # the child is gone already
        conn.send(message)
