"""``tradesweep serve``: the REST API and its workers against one database.

The API runs with uvicorn in this process; the workers run as one child process
(``python -m tradesweep worker --concurrency N``) that inherits the environment with
``TRADESWEEP_DATABASE_URL`` set to the same database. Stopping serve (Ctrl-C or SIGTERM)
stops the API gracefully, then the workers (SIGTERM, then SIGKILL after a grace period); on
Linux the workers also get SIGTERM if serve itself dies.

An embedded SQLite database is created or upgraded on start; a PostgreSQL database must
already be at the newest revision (``tradesweep db upgrade``). When the database has no API
key yet, serve creates one (tenant ``default``) and prints it: the only time it is shown.

Logs go through :func:`tradesweep.observe.configure_logging` (``$TRADESWEEP_LOG_FORMAT``
json or console), uvicorn's included. Webhooks are delivered by a
:class:`~tradesweep.notify.WebhookDispatcher` on a thread of this process, counted in the
app's metrics, from start-up until the API has stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tradesweep.cli.db import UrlOption
from tradesweep.errors import TradesweepError
from tradesweep.observe.logging import LOG_LEVEL_ENV

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn
    from sqlalchemy import Engine

DEFAULT_TENANT = "default"
WORKER_GRACE_SECONDS = 15.0
WEBHOOK_STOP_SECONDS = 15.0
"""At shutdown, how long an attempt in flight (10 s timeout) may take to be recorded."""
SHUTDOWN_GRACE_SECONDS = 10.0
"""How long requests still running at shutdown may take before uvicorn cancels them."""


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Jobs run at once by the worker process (default: number of cores; 0: API only).",
        ),
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
) -> None:
    """Run the REST API and N workers against the same database.

    Example: tradesweep serve --port 8000 --workers 4
    """
    import uvicorn

    from tradesweep.api import ApiSettings, create_app
    from tradesweep.notify import WebhookDispatcher
    from tradesweep.observe import configure_logging
    from tradesweep.store import default_database_url, make_engine

    configure_logging(level=log_level.upper() if log_level else None)
    database_url = url or default_database_url()
    _check_port(host, port)
    engine = make_engine(database_url)
    try:
        _prepare_database(engine)
        first_key = _first_key(engine)
        settings = ApiSettings.from_env(database_url, max_body_bytes=max_body_bytes)
        app = create_app(settings, engine=engine)
        concurrency = (os.cpu_count() or 1) if workers is None else workers
        worker = _start_workers(concurrency, database_url, log_level) if concurrency > 0 else None
        base = f"http://{_display_host(host)}:{port}"
        typer.echo(f"tradesweep API on {base} (docs {base}/docs), database {_safe(engine)}")
        typer.echo(
            f"workers: {concurrency} job(s) at once"
            if worker
            else "workers: none (--workers 0); start some with `tradesweep worker`"
        )
        if first_key is not None:
            typer.echo(f"API key (tenant {DEFAULT_TENANT}; shown once, store it): {first_key}")
        else:
            typer.echo(
                "API keys exist already; make another with `tradesweep keys create --tenant NAME`"
            )
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        stop_webhooks = threading.Event()
        webhooks = WebhookDispatcher(app.state.sessions, metrics=app.state.metrics)
        webhooks_thread = webhooks.start(stop_webhooks)
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


class _Workers:
    """The worker child process, watched: an unexpected exit is reported on stderr."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.stopping = False
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _watch(self) -> None:
        code = self.process.wait()
        if not self.stopping:
            typer.echo(
                f"error: the worker process exited with code {code}; jobs stay queued until "
                "a worker runs (restart serve, or run `tradesweep worker`)",
                err=True,
            )

    def stop(self, grace: float = WORKER_GRACE_SECONDS) -> None:
        self.stopping = True
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start_workers(concurrency: int, database_url: str, log_level: str | None) -> _Workers:
    env = {**os.environ, "TRADESWEEP_DATABASE_URL": database_url}
    if log_level:
        env[LOG_LEVEL_ENV] = log_level.upper()
    command = [sys.executable, "-m", "tradesweep", "worker", "--concurrency", str(concurrency)]
    return _Workers(subprocess.Popen(command, env=env, preexec_fn=_die_with_parent))


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when serve dies."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
