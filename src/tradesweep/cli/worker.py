"""``tradesweep worker``: run jobs from the database queue until SIGTERM or Ctrl-C.

Start as many as you like, on this machine or any other that reaches the same PostgreSQL
(SQLite: this machine only). The first SIGTERM or SIGINT stops claiming and gives running
jobs ``--grace`` seconds to finish before they go back to the queue; a second one releases
them at once. The exit code is 0 after a clean stop.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tradesweep.cli.db import UrlOption, database


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    url: UrlOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, help="Jobs run at once (default: the number of cores).", show_default=False
        ),
    ] = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            "--lease-seconds",
            min=0.5,
            help="A claimed job returns to the queue this long after its worker stops renewing.",
        ),
    ] = 30.0,
    poll_interval: Annotated[
        float,
        typer.Option("--poll-interval", min=0.05, help="Seconds between looks at an empty queue."),
    ] = 1.0,
    grace: Annotated[
        float,
        typer.Option(min=0, help="On SIGTERM, seconds running jobs have to finish before release."),
    ] = 5.0,
    compute_workers: Annotated[
        int | None,
        typer.Option(
            "--compute-workers",
            min=1,
            help="Processes each sweep uses (default: the cores divided among the jobs).",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="debug, info, warning or error (default: $TRADESWEEP_LOG_LEVEL, else info).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Claim and run jobs (sweeps, backtests, walk-forwards) until stopped."""
    import logging
    import signal
    import threading

    from tradesweep.environment import RuntimeSettings
    from tradesweep.jobs import Worker
    from tradesweep.observe import configure_logging
    from tradesweep.store import session_factory

    runtime = RuntimeSettings.from_environ(os.environ)  # once: every job runs with these
    configure_logging(level=log_level.upper() if log_level else None)
    log = logging.getLogger("tradesweep.worker")
    stop, abort = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.info("%s again: releasing running jobs now", name)
            abort.set()
        else:
            log.info("%s: no new jobs; running ones have %g s to finish", name, grace)
            stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with database(url, migrated=True) as engine:
        runner = Worker(
            session_factory(engine),
            concurrency=concurrency or os.cpu_count() or 1,
            lease_seconds=lease_seconds,
            poll_interval=poll_interval,
            shutdown_grace=grace,
            compute_workers=compute_workers,
            runtime=runtime,
        )
        runner.run(stop, abort)
