"""The FastAPI application factory: everything the app uses comes in through ``settings``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI
from sqlalchemy import Engine

from tradesweep import __version__
from tradesweep.api.csrf import CsrfGuard
from tradesweep.api.docs import install_docs
from tradesweep.api.errors import install_error_handlers
from tradesweep.api.limits import NulGuard, TokenBuckets
from tradesweep.api.middleware import BodyLimit, RequestObserver
from tradesweep.api.openapi import install as install_openapi
from tradesweep.api.routers import (
    auth,
    backtest_charts,
    backtest_compat,
    backtests,
    catalog,
    datasets,
    estimate,
    health,
    jobs,
    metrics,
    pipelines,
    strategies,
    stream,
    sweeps,
    walkforward,
)
from tradesweep.api.settings import ApiSettings
from tradesweep.api.telemetry import count_submissions
from tradesweep.observe import Metrics
from tradesweep.observe.snapshot import snapshot_reader
from tradesweep.store import make_engine, session_factory
from tradesweep.web import mount_dashboard

DESCRIPTION = """\
Submit strategy sweeps, backtests and walk-forward analyses as jobs, follow them (also live,
over Server-Sent Events), and read the ranked results. Every endpoint but `/health`,
`/metrics` (the metrics token) and the docs needs an API key in
`X-API-Key` or `Authorization: Bearer` (create one with `tradesweep keys create --tenant NAME`),
or the session cookie set by `POST /api/v1/auth/login` (state changes with the cookie must
come from this origin: 403 `csrf` otherwise). Errors are
`{"error": code, "message": text, "details": {...}}`.
"""


def create_app(settings: ApiSettings, *, engine: Engine | None = None) -> FastAPI:
    """The API over the database of ``settings`` (or ``engine``, which the caller then owns
    and disposes). The app disposes an engine it made when it shuts down."""
    own_engine = engine is None
    db = engine if engine is not None else make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if own_engine:
                db.dispose()

    app = FastAPI(
        title="tradesweep",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # install_docs: the same pages without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = db
    app.state.sessions = session_factory(db)
    # SQLite: one transaction at a time per process (see deps.get_session).
    app.state.write_gate = asyncio.Lock() if db.dialect.name == "sqlite" else nullcontext()
    # This app's metrics (GET /metrics); `tradesweep serve` hands them to its webhook dispatcher.
    app.state.metrics = Metrics(snapshot=snapshot_reader(app.state.sessions))
    # Set by whoever runs the server when it starts to stop (`tradesweep serve` on SIGTERM):
    # progress streams then end, so they do not hold the shutdown up (clients reconnect).
    app.state.stopping = threading.Event()
    count_submissions(app.state.sessions, app.state.metrics)
    # Each API key's submissions, in this process (see api.limits).
    app.state.submit_buckets = TokenBuckets(settings.submit_rate_per_second, settings.submit_burst)
    install_error_handlers(app, retry_after_seconds=settings.retry_after_seconds)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(NulGuard)
    app.add_middleware(CsrfGuard)  # before any body is read or transaction begun
    app.add_middleware(RequestObserver, metrics=app.state.metrics)  # outermost: sees every answer
    # estimate before sweeps: /sweeps/estimate is not /sweeps/{sweep_run_id}
    for module in (health, metrics, auth, estimate, sweeps, jobs, stream, backtests, walkforward):
        app.include_router(module.router)
    for module in (pipelines, backtest_compat):  # clients of the systems this one replaces
        app.include_router(module.router)
    for module in (catalog, datasets, strategies, backtest_charts):  # dashboard
        app.include_router(module.router)
    mount_dashboard(app)
    install_docs(app)
    install_openapi(app)
    return app
