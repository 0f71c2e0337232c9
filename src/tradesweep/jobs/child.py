"""The compute process: one per attempt, in its own process group, watched from both sides.

The worker starts :func:`child_main` through a ``forkserver`` context (:func:`compute_context`)
whose server has the tradesweep modules imported already: each attempt starts in
milliseconds, in a fresh single-threaded process (safe with numba and with the worker's own
threads), and a sweep's own process pool starts inside it.

* The child makes itself a process-group leader (``os.setpgrp``), so everything it starts
  (the sweep's forkserver and pool processes) is in its group and the worker ends all of it
  with one ``os.killpg``: on timeout, on cancel after the grace, on lease loss, on exit.
* The child watches its parent: when the worker dies (SIGKILL, OOM), its forkserver exits and
  the child is re-parented; a watcher thread sees ``os.getppid()`` change, or the worker's pid
  disappear, and kills the child's whole group. No compute outlives its worker by more than
  :data:`WATCH_SECONDS`.

Child and worker share one duplex pipe. The child sends ``("progress", done, total, phase)``,
then exactly one of ``("done", outcome)``, ``("failed", ChildFailure)`` or ``("cancelled",)``. The
worker sends ``"cancel"`` to ask for a cooperative stop: the sweep's cancel check is "has the
worker written anything?" (a closed pipe counts too, so a dead worker also stops it).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from tradesweep.environment import RuntimeSettings
from tradesweep.errors import Cancellation
from tradesweep.services.execute import execute
from tradesweep.sweep.progress import ProgressInfo
from tradesweep.vocabulary import for_api

WATCH_SECONDS = 0.5
PRELOAD: tuple[str, ...] = ("tradesweep.jobs.child",)
"""Imported once by the forkserver: the compute stack (numba kernels, pandas, the sweep)."""


@dataclass(frozen=True)
class ChildFailure:
    """Why the compute raised: ``retryable`` False for bad input (TradesweepError)."""

    error_type: str
    message: str
    retryable: bool
    traceback: str

    @property
    def reason(self) -> str:
        """``RuntimeError: boom``: what goes into ``jobs.error`` (never the traceback)."""
        return f"{self.error_type}: {self.message}" if self.message else self.error_type


def compute_context(preload: tuple[str, ...] = PRELOAD) -> BaseContext:
    """The ``forkserver`` context with ``preload`` imported by its server; ``spawn`` where
    there is no forkserver. (The forkserver is per process; its preload list is set here.)"""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


def warm_up(context: BaseContext) -> None:
    """Start ``context``'s server now (a forkserver imports :data:`PRELOAD` before it serves),
    so that the first job's process starts at once instead of while its lease runs."""
    process = context.Process(target=os.getpid, name="tradesweep-warm-up")  # type: ignore[attr-defined]
    process.start()
    process.join()


def child_main(
    job_type: str,
    spec: Any,
    conn: Connection,
    worker_pid: int,
    workers: int | None,
    tenant: int | None = None,
    runtime: RuntimeSettings | None = None,
) -> None:
    """Run one job's compute and report over ``conn`` (module docstring); its tickers
    resolve in ``tenant``'s datasets first (the job's tenant). ``runtime``: what the worker
    read from the environment at start (None: the library defaults); the child never reads
    the environment itself, whose copy a forkserver took when it started."""
    os.setpgrp()
    watch_parent(worker_pid)
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    def progress(info: ProgressInfo) -> None:
        send(("progress", int(info.done), int(info.total), info.phase))

    def cancelled() -> bool:
        with lock:
            return conn.poll()

    try:
        outcome = execute(
            job_type,
            spec,
            progress=progress,
            cancel=cancelled,
            workers=workers,
            registry=runtime.registry() if runtime is not None else None,
            plugins=runtime.strategy_plugins if runtime is not None else None,
            tenant=tenant,
        )
    except Cancellation:
        send(("cancelled",))
    except BaseException as exc:
        send(("failed", failure_of(exc)))
    else:
        try:
            send(("done", outcome))
        except Exception as exc:  # an outcome that does not pickle
            send(("failed", failure_of(exc)))
    finally:
        conn.close()


def failure_of(exc: BaseException) -> ChildFailure:
    from tradesweep.jobs.policy import JobRetryPolicy

    return ChildFailure(
        error_type=type(exc).__name__,
        message=for_api(str(exc)),  # a job's error is read over the API
        retryable=JobRetryPolicy.retryable(exc),
        traceback="".join(traceback.format_exception(exc)),
    )


def watch_parent(worker_pid: int, interval: float = WATCH_SECONDS) -> threading.Thread:
    """Kill this process's group when its parent changes or ``worker_pid`` is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent or not _alive(worker_pid):
                os.killpg(0, signal.SIGKILL)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def kill_group(pid: int | None) -> None:
    """SIGKILL the process group led by ``pid`` (the compute and all it started)."""
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
