"""``tradesweep serve``: the REST API and its workers against one database.

The API runs with uvicorn in this process; the workers run as one child process
(``python -m tradesweep worker --concurrency N``) that inherits the environment with
``TRADESWEEP_DATABASE_URL`` set to the same database. When that child dies (killed, out of
memory, a crash), serve forgets its row in ``workers`` (so ``/health`` says ``degraded`` while
jobs wait) and starts a new one after a capped exponential backoff (:class:`Backoff`: 1 s,
2 s, 4 s ... 30 s, back to 1 s once a worker stayed up a minute), logging each restart. The
jobs the dead child held come back to the queue when their leases expire. Stopping serve
(Ctrl-C or SIGTERM) stops the API gracefully, then the workers (SIGTERM, then SIGKILL after
a grace period), never restarting them; on Linux the workers also get SIGTERM if serve itself
dies.

An embedded SQLite database is created or upgraded on start; a PostgreSQL database must
already be at the newest revision (``tradesweep db upgrade``). When the database has no API
key yet, serve creates one (tenant ``default``) and prints it: the only time it is shown.

With ``--retention-days N`` (or ``$TRADESWEEP_RETENTION_DAYS``; off by default) a thread of
this process deletes jobs finished more than N days ago, with their results, events and
deliveries, on start and then daily (:mod:`tradesweep.store.retention`); it logs
``jobs_pruned`` each time.

Logs go through :func:`tradesweep.observe.configure_logging` (``$TRADESWEEP_LOG_FORMAT``
json or console), uvicorn's included. Webhooks are delivered by a
:class:`~tradesweep.notify.WebhookDispatcher` on a thread of this process, counted in the
app's metrics, from start-up until the API has stopped.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tradesweep.cli.aliases import merged
from tradesweep.cli.db import MAX_AGE_DAYS, UrlOption
from tradesweep.errors import TradesweepError
from tradesweep.observe.logging import LOG_LEVEL_ENV, get_logger

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn
    from sqlalchemy import Engine

    from tradesweep.environment import RuntimeSettings

DEFAULT_TENANT = "default"
WORKER_GRACE_SECONDS = 15.0
WEBHOOK_STOP_SECONDS = 15.0
"""At shutdown, how long an attempt in flight (10 s timeout) may take to be recorded."""
SHUTDOWN_GRACE_SECONDS = 10.0
"""How long requests still running at shutdown may take before uvicorn cancels them."""
WORKER_RESTART_ENV = "TRADESWEEP_WORKER_RESTART_SECONDS"
"""The first wait before restarting a dead worker (default 1 s; it doubles up to 30 s)."""


_log = get_logger("tradesweep.serve")
RETENTION_DAYS_ENV = "TRADESWEEP_RETENTION_DAYS"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Jobs run at once by the worker process (default: number of cores; 0: API only).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, hidden=True, help="Old name of --concurrency.")
    ] = None,
    url: UrlOption = None,
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", min=1024, help="Larger request bodies get 413.")
    ] = 1024 * 1024,
    log_level: Annotated[
        str | None,
        typer.Option(
            help="debug, info, warning or error (default: $TRADESWEEP_LOG_LEVEL, else info).",
            show_default=False,
        ),
    ] = None,
    retention_days: Annotated[
        str | None,
        typer.Option(
            "--retention-days",
            help="Delete jobs finished more than N days ago, daily "
            f"(default: ${RETENTION_DAYS_ENV}, else never).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the REST API and N workers against the same database.

    Example: tradesweep serve --port 8000 --concurrency 4
    """
    import uvicorn

    from tradesweep.api import ApiSettings, create_app
    from tradesweep.environment import RuntimeSettings
    from tradesweep.notify import WebhookDispatcher
    from tradesweep.observe import configure_logging
    from tradesweep.store import default_database_url, make_engine
    from tradesweep.store.retention import start_retention

    runtime = RuntimeSettings.from_environ(os.environ)  # the worker child reads the same
    keep = _retention(retention_days)
    configure_logging(level=log_level.upper() if log_level else None)
    database_url = url or default_database_url()
    _check_port(host, port)
    engine = make_engine(database_url)
    try:
        _prepare_database(engine)
        first_key = _first_key(engine)
        settings = ApiSettings.from_env(
            database_url, max_body_bytes=max_body_bytes, runtime=runtime
        )
        app = create_app(settings, engine=engine)
        concurrency = merged(concurrency, workers, flag="--concurrency", old_flag="--workers")
        concurrency = (os.cpu_count() or 1) if concurrency is None else concurrency
        worker = (
            _Workers(
                lambda: _start_worker(concurrency, database_url, log_level),
                forget=lambda pid: _forget_worker(engine, pid),
                backoff=Backoff(first=_restart_seconds()),
                shutdown=app.state.stopping,
            )
            if concurrency > 0
            else None
        )
        base = f"http://{_display_host(host)}:{port}"
        typer.echo(f"tradesweep API on {base} (docs {base}/docs), database {_safe(engine)}")
        typer.echo(
            f"workers: {concurrency} job(s) at once"
            if worker
            else "workers: none (--concurrency 0); start some with `tradesweep worker`"
        )
        if first_key is not None:
            typer.echo(f"API key (tenant {DEFAULT_TENANT}; shown once, store it): {first_key}")
        else:
            typer.echo(
                "API keys exist already; make another with `tradesweep keys create --tenant NAME`"
            )
        typer.echo(
            f"metrics: {base}/metrics needs 'Authorization: Bearer <token>'; {_token(runtime)}"
        )
        typer.echo(
            f"retention: jobs finished more than {keep.days} days ago are deleted daily"
            if keep is not None
            else f"retention: off (set {RETENTION_DAYS_ENV} or --retention-days to prune jobs)"
        )
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        stop_webhooks = threading.Event()
        webhooks = WebhookDispatcher(app.state.sessions, metrics=app.state.metrics)
        webhooks_thread = webhooks.start(stop_webhooks)
        if keep is not None:
            start_retention(app.state.sessions, keep=keep, stop=stop_webhooks, report=_pruned)
        try:
            # log_config=None: uvicorn's records go through configure_logging's chain; the
            # API's own http_request line (with request_id) replaces uvicorn's access log.
            config = uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                log_level=log_level.lower() if log_level else None,
                access_log=False,
                timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS),
            )
            _server(config, app.state.stopping).run()
        finally:
            stop_webhooks.set()
            if worker is not None:
                worker.stop()
            webhooks_thread.join(WEBHOOK_STOP_SECONDS)
    finally:
        engine.dispose()


def _retention(option: str | None) -> timedelta | None:
    """``--retention-days``, else ``$TRADESWEEP_RETENTION_DAYS``, as a duration (None: off)."""
    text, source = (
        (option, "--retention-days")
        if option is not None
        else (os.environ.get(RETENTION_DAYS_ENV), RETENTION_DAYS_ENV)
    )
    if text is None or not text.strip():
        return None
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days <= 0 or days > MAX_AGE_DAYS:
        raise TradesweepError(
            f"{source} must be a whole number of days from 1 to {MAX_AGE_DAYS:,}, got {text!r}",
            fix=f"e.g. {source}{' ' if source.startswith('-') else '='}30, or unset it to keep "
            "every job",
            field=source,
        )
    return timedelta(days=days)


def _pruned(outcome: Any) -> None:
    if isinstance(outcome, Exception):
        _log.warning("jobs_prune_failed", error=f"{type(outcome).__name__}: {outcome}")
    else:
        _log.info("jobs_pruned", **dataclasses.asdict(outcome))


def _server(config: uvicorn.Config, stopping: threading.Event) -> uvicorn.Server:
    """uvicorn that also sets ``stopping`` when told to exit (SIGTERM, Ctrl-C), so the app's
    progress streams end at once instead of holding the graceful shutdown up; their clients
    reconnect with Last-Event-ID."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            stopping.set()
            super().handle_exit(sig, frame)

    return Server(config)


def _exit_on_sigterm(_signum: int, _frame: Any) -> None:
    # uvicorn re-raises the SIGTERM it handled once it has shut down: exit through the
    # finally blocks (stopping the workers) instead of dying on the default handler.
    raise SystemExit(0)


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise TradesweepError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                fix=f"stop what uses it, or pick another port: --port {port + 1}",
                field="port",
            ) from None


def _prepare_database(engine: Engine) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from tradesweep.store import current_revision, head_revision, upgrade_database

    try:
        if engine.dialect.name == "sqlite":
            upgrade_database(engine)
            return
        revision, head = current_revision(engine), head_revision()
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise TradesweepError(
            f"database error on {_safe(engine)}: {first_line}",
            fix="check the URL and that the server is up",
        ) from None
    if revision != head:
        raise TradesweepError(
            f"database {_safe(engine)} is at revision {revision or 'none'}, not {head}",
            fix="run `tradesweep db upgrade` (serve upgrades only an embedded SQLite database)",
        )


def _first_key(engine: Engine) -> str | None:
    """A new key for tenant ``default`` when the database has none at all, else None."""
    from tradesweep.store import ApiKeyRepository, TenantRepository, session_factory

    with session_factory(engine).begin() as session:
        keys = ApiKeyRepository(session)
        if keys.list():
            return None
        tenant = TenantRepository(session).get_or_create(DEFAULT_TENANT)
        return keys.create(tenant).key


@dataclass(frozen=True)
class Backoff:
    """Waits before restarting a dead worker: ``first`` seconds, doubling per failure in a
    row up to ``cap``; a worker that stayed up ``stable`` seconds starts the count again."""

    first: float = 1.0
    cap: float = 30.0
    stable: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th death in a row (1, 2, ...)."""
        return float(min(self.cap, self.first * 2 ** min(failures - 1, 32)))

    def failures(self, *, previous: int, uptime: float) -> int:
        """Deaths in a row, counting this one after ``uptime`` seconds up."""
        return 1 if uptime >= self.stable else previous + 1


class _Workers:
    """The worker child process, watched by a thread: when it dies, its row in ``workers``
    is forgotten and a new one starts after the :class:`Backoff` wait, unless serve is
    stopping (``shutdown`` is set, or :meth:`stop` was called)."""

    def __init__(
        self,
        start: Callable[[], subprocess.Popen[bytes]],
        *,
        forget: Callable[[int], None],
        backoff: Backoff,
        shutdown: threading.Event,
    ) -> None:
        self._start, self._forget, self.backoff = start, forget, backoff
        self._stopping = threading.Event()
        self._shutdown = shutdown
        self._lock = threading.Lock()
        self.process = start()
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _ending(self) -> bool:
        return self._stopping.is_set() or self._shutdown.is_set()

    def _watch(self) -> None:
        failures = 0
        started = time.monotonic()
        while True:
            process = self.process
            code = process.wait()
            if self._ending():
                return
            uptime = time.monotonic() - started
            failures = self.backoff.failures(previous=failures, uptime=uptime)
            delay = self.backoff.delay(failures)
            _log.error(
                "worker_restart",
                pid=process.pid,
                exit_code=code,
                uptime_seconds=round(uptime, 1),
                restart_in_seconds=delay,
                failures_in_a_row=failures,
            )
            try:
                self._forget(process.pid)
            except Exception:  # the database is away: the row goes stale on its own
                _log.warning("worker_forget_failed", pid=process.pid, exc_info=True)
            if self._stopping.wait(delay) or self._ending():
                return
            with self._lock:
                if self._ending():
                    return
                self.process = self._start()
                started = time.monotonic()
            _log.info("worker_restarted", pid=self.process.pid, previous_pid=process.pid)

    def stop(self, grace: float = WORKER_GRACE_SECONDS) -> None:
        self._stopping.set()
        with self._lock:
            process = self.process
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_worker(
    concurrency: int, database_url: str, log_level: str | None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TRADESWEEP_DATABASE_URL": database_url}
    if log_level:
        env[LOG_LEVEL_ENV] = log_level.upper()
    command = [sys.executable, "-m", "tradesweep", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(command, env=env, preexec_fn=_die_with_parent())


def _forget_worker(engine: Engine, pid: int) -> None:
    """Delete the ``workers`` row of the dead child ``pid`` of this host: it will never beat
    again, and ``/health`` should not count it while its heartbeat is still fresh."""
    from sqlalchemy import delete

    from tradesweep.store import session_factory
    from tradesweep.store.models import WorkerRecord

    with session_factory(engine).begin() as session:
        session.execute(
            delete(WorkerRecord).where(
                WorkerRecord.pid == pid, WorkerRecord.hostname == socket.gethostname()[:255]
            )
        )


def _restart_seconds() -> float:
    raw = os.environ.get(WORKER_RESTART_ENV, "").strip()
    if not raw:
        return Backoff.first
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= Backoff.cap:
        raise TradesweepError(
            f"${WORKER_RESTART_ENV} must be a number of seconds above 0 and at most "
            f"{Backoff.cap:g}, got {raw[:40]!r}",
            fix=f"unset it (default {Backoff.first:g} s) or give e.g. {WORKER_RESTART_ENV}=2",
        )
    return value


def _token(runtime: RuntimeSettings) -> str:
    from tradesweep.api.settings import METRICS_TOKEN_ENV, metrics_token_path

    if os.environ.get(METRICS_TOKEN_ENV):
        return f"the token is ${METRICS_TOKEN_ENV}"
    path = metrics_token_path(runtime.state_dir)
    return f"the token is in {path} (mode 0600; docs/observability.md)"


def _die_with_parent() -> Callable[[], None] | None:
    """What the child runs before exec: ask Linux to send it SIGTERM when serve dies. libc's
    ``prctl`` is looked up here, in serve: a restart forks from a thread while others run, and
    the child must take no lock (the loader's, the import system's) between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None).prctl
    pr_set_pdeathsig = 1

    def in_child() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return in_child


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
