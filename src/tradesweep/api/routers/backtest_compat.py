"""The endpoints of the backtest orchestrator this service replaces, for its clients as they
are: ``POST /api/backtest/run`` queues one backtest, ``GET /api/backtest/{id}/status`` follows
it, ``GET /api/backtest/{id}/results`` reads its trades, P&L, metrics and
``signals_generated``.

``strategy_name`` is a built-in (``sma_crossover``, or ``SMA``/``EMA``/``MACD``), an
orchestrator name (``ma_crossover_strategy``: :data:`~tradesweep.services.orchestrator.
STRATEGY_NAMES`) or a stored declarative strategy: ``<name>.yaml`` in the server's strategies
folder (``<data dir>/strategies``, tradesweep's format or the orchestrator's; workers read the
same file, so they must share that folder as they share the datasets). ``timeframe``
resamples the bars, ``start_date``/``end_date`` (days or ISO-8601 datetimes, inclusive) slice
them, ``initial_capital`` is the engine's starting cash. The job is an ordinary ``backtest``
job: ``/api/v1/jobs/{id}`` shows it too. This module only translates: specs and jobs are made
and read by :mod:`tradesweep.services.orchestrator`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, WebSocket
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tradesweep.api import ws
from tradesweep.api.deps import (
    BodyDep,
    IdempotencyKeyDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SettingsDep,
    SubmissionLimits,
    validated,
)
from tradesweep.api.errors import NotReady
from tradesweep.api.openapi import BY_ID, SUBMIT, request_body
from tradesweep.api.schemas import ErrorOut, trade_dict
from tradesweep.services import orchestrator
from tradesweep.services.jobs import Job, JobStatus, JobType
from tradesweep.services.orchestrator import (
    DEFAULT_CAPITAL,
    BacktestRunRequest,
    OptimizeRequest,
    Submitted,
    WalkForwardRunRequest,
)

router = APIRouter(prefix="/api/backtest", tags=["backtest (orchestrator clients)"])


class RunOut(BaseModel):
    id: str
    job_id: str
    status: str
    message: str
    created_at: datetime
    links: dict[str, str]


class StatusOut(BaseModel):
    id: str
    status: str = Field(description="queued, running, completed, failed or cancelled")
    progress: float = Field(description="percent")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    links: dict[str, str]


class ResultsOut(BaseModel):
    id: str
    status: str
    strategy_name: str
    symbol: str | None
    timeframe: str | None
    start_date: str | None
    end_date: str | None
    initial_capital: float
    total_pnl: float = Field(description="sum of the closed trades' pnl")
    winning_trades: int = Field(description="closed trades with pnl > 0")
    losing_trades: int = Field(description="closed trades with pnl < 0")
    total_trades: int
    signals_generated: int | None = Field(
        description="bars on which the strategy signalled an entry or an exit (null for "
        "backtests run before this count was kept)"
    )
    metrics: dict[str, Any]
    trades: list[dict[str, Any]]
    backtest_run_id: str


class OptimizeResultsOut(BaseModel):
    id: str
    status: str
    strategy_name: str
    symbol: str | None
    timeframe: str | None
    date_range: list[str] | None
    objective: str
    best_params: dict[str, Any] | None = Field(
        description="the best combination's parameters (null when none was ranked)"
    )
    best_result: dict[str, Any] | None = Field(description="the best row of all_results")
    all_results: list[dict[str, Any]] = Field(
        description="every combination: params, rank, sharpe_ratio, total_pnl, win_rate "
        "(percent), total_trades and every metric; ranked rows first, best first"
    )
    all_results_truncated: bool
    total_combinations: int
    sweep_run_id: str
    warnings: list[str] = Field(
        default_factory=list, description="e.g. nothing was ranked: why, and the fix"
    )


class WalkForwardResultsOut(BaseModel):
    id: str
    status: str
    strategy_name: str
    symbol: str | None
    window_size_months: int
    results: list[dict[str, Any]] = Field(
        description="per window: train_window and test_window ([first, last] bar), "
        "optimized_params, in_sample and test_performance (the test window's metrics)"
    )
    out_of_sample: dict[str, Any] = Field(description="metrics of the stitched test windows")
    efficiency: dict[str, Any]
    warnings: list[str] = Field(
        default_factory=list,
        description="e.g. test windows that traded nothing because their training window "
        "ranked no combination: why, and the fix",
    )


@router.post(
    "/run",
    status_code=202,
    response_model=RunOut,
    openapi_extra=request_body(BacktestRunRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def run(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> RunOut:
    """Queue one backtest; follow it at ``/api/backtest/{id}/status``."""
    registry = registry.for_tenant(principal.tenant_id)  # its own datasets, then shared
    request = validated(BacktestRunRequest, body, tickers=registry.tickers())
    spec = orchestrator.run_spec(
        request, settings.strategies_dir, registry, defaults=settings.strategy_defaults
    )
    submitted = orchestrator.submit_job(
        session, principal.tenant_id, request, spec, idempotency_key=idempotency_key
    )
    return _queued(submitted, response, "Backtest job queued")


@router.post(
    "/optimize",
    status_code=202,
    response_model=RunOut,
    openapi_extra=request_body(OptimizeRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def optimize(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> RunOut:
    """Queue a sweep of ``optimize_params`` ranked by ``objective``; its results hold
    ``best_params``, ``best_result`` and ``all_results``."""
    registry = registry.for_tenant(principal.tenant_id)
    request = validated(OptimizeRequest, body, tickers=registry.tickers())
    spec = orchestrator.optimize_spec(
        request,
        settings.strategies_dir,
        registry,
        max_combinations=settings.max_sweep_combinations,
        defaults=settings.strategy_defaults,
    )
    submitted = orchestrator.submit_job(
        session, principal.tenant_id, request, spec, idempotency_key=idempotency_key
    )
    return _queued(submitted, response, "Optimization job queued")


@router.post(
    "/walk-forward",
    status_code=202,
    response_model=RunOut,
    openapi_extra=request_body(WalkForwardRunRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def walk_forward(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> RunOut:
    """Queue a walk-forward: optimise on a window of ``window_size_months``, test the best
    parameters on the next one, roll on."""
    registry = registry.for_tenant(principal.tenant_id)
    request = validated(WalkForwardRunRequest, body, tickers=registry.tickers())
    spec = orchestrator.walkforward_spec(
        request,
        settings.strategies_dir,
        registry,
        max_combinations=settings.max_sweep_combinations,
        defaults=settings.strategy_defaults,
    )
    submitted = orchestrator.submit_job(
        session, principal.tenant_id, request, spec, idempotency_key=idempotency_key
    )
    return _queued(submitted, response, "Walk-forward job queued")


@router.get("/{job_id}/status", response_model=StatusOut, responses=BY_ID)
def status(job_id: str, principal: PrincipalDep, session: SessionDep) -> StatusOut:
    """Where the backtest is: queued, running, completed, failed or cancelled."""
    job = orchestrator.find_job(session, principal.tenant_id, job_id)
    return StatusOut(
        id=job.id,
        status=job.status.value,
        progress=round(float(job.progress or 0.0), 2),
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        links=_links(job),
    )


@router.get(
    "/{job_id}/results",
    response_model=ResultsOut | OptimizeResultsOut | WalkForwardResultsOut,
    responses={**BY_ID, 409: {"model": ErrorOut, "description": "the job has not completed"}},
)
def results(
    job_id: str, principal: PrincipalDep, session: SessionDep
) -> ResultsOut | OptimizeResultsOut | WalkForwardResultsOut:
    """A completed backtest's closed trades, total P&L, winning and losing trade counts,
    metrics and ``signals_generated``; an optimization's ``best_params``, ``best_result`` and
    ``all_results``; a walk-forward's windows. 409 ``not_ready`` before it completes."""
    job = orchestrator.find_job(session, principal.tenant_id, job_id)
    request = (job.parameters or {}).get("request", {})
    if job.type is JobType.SWEEP:
        return _optimize_results(session, principal.tenant_id, job, request)
    if job.type is JobType.WALKFORWARD:
        return _walkforward_results(job, request)
    found = orchestrator.backtest_run(session, principal.tenant_id, job)
    if job.status is not JobStatus.COMPLETED or found is None:
        raise _not_ready(job)
    stored, trades = found
    pnls = [t.pnl for t in trades if t.pnl is not None]
    return ResultsOut(
        id=job.id,
        status=job.status.value,
        strategy_name=request.get("strategy_name", stored.strategy or ""),
        symbol=job.ticker,
        timeframe=request.get("timeframe"),
        start_date=request.get("start_date"),
        end_date=request.get("end_date"),
        initial_capital=request.get("initial_capital", DEFAULT_CAPITAL),
        total_pnl=float(sum(pnls)),
        winning_trades=sum(1 for p in pnls if p > 0),
        losing_trades=sum(1 for p in pnls if p < 0),
        total_trades=len(trades),
        signals_generated=(job.result or {}).get("signals_generated"),
        metrics=stored.metrics,
        trades=[trade_dict(t) for t in trades],
        backtest_run_id=stored.id,
    )


class ProgressTokenOut(BaseModel):
    token: str
    expires_in: int = Field(description="seconds the token opens the WebSocket")
    url: str = Field(description="the WebSocket's path with the token")


@router.post("/{job_id}/progress-token", response_model=ProgressTokenOut, responses=BY_ID)
def progress_token(
    job_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> ProgressTokenOut:
    """A short-lived token that opens the progress WebSocket of this job from a browser, which
    cannot send the API key as a header (never put the key in the URL)."""
    job = orchestrator.find_job(session, principal.tenant_id, job_id)
    token = ws.progress_token(job.id, principal.key_prefix, settings.session_secret)
    return ProgressTokenOut(
        token=token,
        expires_in=ws.TOKEN_SECONDS,
        url=f"{router.prefix}/{job.id}/progress?token={token}",
    )


@router.websocket("/{job_id}/progress")
async def progress(websocket: WebSocket, job_id: str) -> None:
    """The job's progress events, as the SSE stream carries them (:mod:`tradesweep.api.ws`);
    authorised by ``?token=`` (``POST .../progress-token``), a key header, or the session
    cookie from this site's own pages."""
    await ws.stream_progress(
        websocket,
        job_id,
        find_job=orchestrator.find_job,
        poll_seconds=websocket.app.state.settings.sse_poll_seconds,
    )


def _optimize_results(
    session: Session, tenant_id: int, job: Job, request: dict[str, Any]
) -> OptimizeResultsOut:
    found = orchestrator.optimize_results(session, tenant_id, job)
    if job.status is not JobStatus.COMPLETED or found is None:
        raise _not_ready(job)
    return OptimizeResultsOut(
        id=job.id,
        status=job.status.value,
        strategy_name=request.get("strategy_name", ""),
        symbol=job.ticker,
        timeframe=request.get("timeframe"),
        date_range=request.get("date_range"),
        objective=request.get("objective", "sharpe_ratio"),
        **found,
    )


def _walkforward_results(job: Job, request: dict[str, Any]) -> WalkForwardResultsOut:
    result = job.result or {}
    if job.status is not JobStatus.COMPLETED or "windows" not in result:
        raise _not_ready(job)
    windows = [
        {
            "window": w["window"],
            "train_window": w["train"],
            "test_window": w["test"],
            "optimized_params": w["params"],
            "in_sample": w["in_sample"],
            "test_performance": w["out_of_sample"],
            "note": w.get("note"),
        }
        for w in result["windows"]
    ]
    return WalkForwardResultsOut(
        id=job.id,
        status=job.status.value,
        strategy_name=request.get("strategy_name", ""),
        symbol=job.ticker,
        window_size_months=request.get("window_size_months", 0),
        results=windows,
        out_of_sample=result.get("out_of_sample") or {},
        efficiency=result.get("efficiency") or {},
        warnings=result.get("warnings") or [],
    )


def _not_ready(job: Job) -> NotReady:
    why = f" ({job.error})" if job.error else ""
    return NotReady(
        f"job {job.id} is {job.status.value}{why}: results come when it completes",
        fix=f"poll GET {router.prefix}/{job.id}/status until status is completed",
        field="job_id",
        status=job.status.value,
    )


def _queued(submitted: Submitted, response: Response, message: str) -> RunOut:
    job, created = submitted.job, submitted.created
    response.headers["Location"] = f"{router.prefix}/{job.id}/status"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return RunOut(
        id=job.id,
        job_id=job.id,
        status=job.status.value,
        message=message if created else "Idempotency-Key seen before: the job",
        created_at=job.created_at,
        links=_links(job),
    )


def _links(job: Job) -> dict[str, str]:
    base = f"{router.prefix}/{job.id}"
    return {
        "status": f"{base}/status",
        "results": f"{base}/results",
        "progress_token": f"{base}/progress-token",
        "job": f"/api/v1/jobs/{job.id}",
    }
