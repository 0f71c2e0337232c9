"""Response bodies, and how each is built from the stored rows.

Request bodies are the models of :mod:`tradesweep.services.submit` (shared with any CLI that
queues work). Metric names are those of :data:`tradesweep.metrics.KEYS`; JSON never carries
NaN or Infinity (``null`` instead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from tradesweep.engine.enums import EXIT_REASON_NAMES, side_name
from tradesweep.metrics.names import ALIASES
from tradesweep.metrics.table import METRICS
from tradesweep.metrics.trades import format_duration
from tradesweep.services.submit import Submission, strategy_type_of
from tradesweep.store import (
    METRIC_COLUMNS,
    BacktestRun,
    BacktestTrade,
    Job,
    JobEvent,
    SweepResultRow,
    SweepRun,
)
from tradesweep.store.models import TRADE_FIELDS

API = "/api/v1"
BEST_METRICS: tuple[str, ...] = tuple(
    name
    for m in METRICS
    if "best_api" in m.shown_in
    for name in (m.key, m.alias)
    if name is not None
)
"""The metrics of each ``/best`` row: the ``best_api`` rows of the metric table by key, each
followed by its deprecated alias where it has one (``annualized_return``, the old name of
``annualized_return_pct``, kept while clients move; ``docs/glossary.md``)."""


class ErrorOut(BaseModel):
    error: str = Field(description="stable snake_case code, e.g. validation_error")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class SubmissionOut(BaseModel):
    job_id: str
    status: str
    message: str
    parameters: dict[str, Any]
    estimated_duration_seconds: float | None = Field(
        description="rough run time once a worker takes the job; null while no worker is alive"
    )
    webhook_url: str | None
    created_at: datetime
    links: dict[str, str]
    warnings: list[str] = Field(
        default_factory=list,
        description="What to know before the job runs, e.g. walk-forward windows too short to "
        "trade min_trades times, or no worker consuming the queue, and how to fix it",
    )

    @classmethod
    def of(cls, submission: Submission) -> SubmissionOut:
        job = submission.job
        parameters = dict(submission.request)
        if submission.combinations is not None:
            parameters["combinations"] = submission.combinations
            parameters["grid_combinations"] = submission.grid_combinations
        what = {"sweep": "Sweep", "backtest": "Backtest", "walkforward": "Walk-forward"}
        message = (
            f"{what[job.type.value]} job queued"
            if submission.created
            else ("Idempotency-Key seen before: this is the original job")
        )
        if submission.combinations is not None and submission.created:
            message += f": {submission.combinations:,} combinations"
        return cls(
            job_id=job.id,
            status=job.status.value,
            message=message,
            parameters=parameters,
            estimated_duration_seconds=submission.estimated_duration_seconds,
            webhook_url=job.webhook_url,
            created_at=job.created_at,
            links=job_links(job),
            warnings=list(submission.warnings),
        )


class ProgressOut(BaseModel):
    percent: float
    message: str | None


LIST_OMITS: tuple[str, ...] = ("diagnostics", "windows", "spec")
"""What ``GET /api/v1/jobs`` leaves out of each job's ``result`` (the bulky parts: a sweep's
diagnostics, a walk-forward's windows and spec); ``GET /api/v1/jobs/{id}`` has them all."""


class JobOut(BaseModel):
    job_id: str
    type: str
    status: str
    ticker: str | None
    progress: ProgressOut
    parameters: dict[str, Any] = Field(description="the request as validated")
    result: dict[str, Any] | None = Field(
        description="null until the job completes; in the job list, without "
        + ", ".join(LIST_OMITS)
    )
    metrics: dict[str, Any] | None
    error: str | None
    attempts: int
    cancel_requested: bool
    webhook_url: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    links: dict[str, str]

    @classmethod
    def of(cls, job: Job, progress: JobEvent | None, *, full: bool = True) -> JobOut:
        message = progress.payload.get("message") if progress is not None else None
        if message is None:
            message = _status_message(job)
        return cls(
            job_id=job.id,
            type=job.type.value,
            status=job.status.value,
            ticker=job.ticker,
            progress=ProgressOut(percent=round(float(job.progress or 0.0), 2), message=message),
            parameters=(job.parameters or {}).get("request", {}),
            result=job.result if full else result_summary(job.result),
            metrics=job.metrics,
            error=job.error,
            attempts=job.attempts,
            cancel_requested=job.cancel_requested,
            webhook_url=job.webhook_url,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            links=job_links(job),
        )


class JobPageOut(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")


class DeliveryAttemptOut(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None = Field(description="the receiver's HTTP status; null: no answer")
    error: str | None = Field(description="e.g. 'HTTP 500', 'timeout after 10 s'")
    duration_ms: float | None


class DeliveryOut(BaseModel):
    """One webhook a job owes (``tradesweep.notify.delivery_view``); response bodies are
    never stored, so never shown."""

    webhook_id: str = Field(description="the webhook-id header, the same on every retry")
    job_id: str
    url: str
    event_type: str
    status: str = Field(description="pending, delivered, gone (410) or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[DeliveryAttemptOut]


class DeliveriesOut(BaseModel):
    job_id: str
    deliveries: list[DeliveryOut]


class ResultRowOut(BaseModel):
    """One combination: its parameters (``fast_period``/``slow_period`` for the crossover and
    MACD strategies, all of them in ``parameters``) and its metrics."""

    model_config = ConfigDict(extra="allow")

    rank: int | None
    ticker: str
    strategy_type: str
    strategy: str
    parameters: dict[str, Any]

    @classmethod
    def of(cls, row: SweepResultRow, metrics: tuple[str, ...]) -> ResultRowOut:
        params = dict(row.params)
        extra: dict[str, Any] = {}
        for name in ("fast", "slow"):
            if name in params:
                extra[f"{name}_period"] = params[name]
        for key in metrics:
            column = ALIASES.get(key, key)
            extra[key] = _plain(getattr(row, column))
        if "avg_trade_duration" in extra and extra["avg_trade_duration"] is None:
            extra["avg_trade_duration"] = _duration_text(row.avg_trade_duration_days)
        return cls(
            rank=row.rank,
            ticker=row.ticker,
            strategy_type=strategy_type_of(row.strategy),
            strategy=row.strategy,
            parameters=params,
            **extra,
        )


class BestOut(BaseModel):
    sweep_run_id: str
    job_id: str | None
    ticker: str | None
    results: list[ResultRowOut]
    total_results: int = Field(description="rows evaluated (for this ticker)")
    ranked_results: int = Field(description="rows with enough trades and a defined score")
    returned: int
    query_timestamp: datetime


class ResultPageOut(BaseModel):
    sweep_run_id: str
    results: list[ResultRowOut]
    total_results: int
    returned: int
    next_cursor: str | None


class SweepRunOut(BaseModel):
    sweep_run_id: str
    job_id: str | None
    ticker: str
    strategy_type: str
    strategy: str
    spec: dict[str, Any]
    spec_id: str | None
    grid_combinations: int
    valid_combinations: int
    evaluated: int
    diagnostics: dict[str, Any] | None
    created_at: datetime
    links: dict[str, str]

    @classmethod
    def of(cls, run: SweepRun) -> SweepRunOut:
        base = f"{API}/sweeps/{run.id}"
        return cls(
            sweep_run_id=run.id,
            job_id=run.job_id,
            ticker=run.ticker,
            strategy_type=strategy_type_of(run.strategy),
            strategy=run.strategy,
            spec=run.spec,
            spec_id=run.spec_id,
            grid_combinations=run.grid_combinations,
            valid_combinations=run.valid_combinations,
            evaluated=run.evaluated,
            diagnostics=run.diagnostics,
            created_at=run.created_at,
            links={"best": f"{base}/best", "results": f"{base}/results"},
        )


class BacktestRunOut(BaseModel):
    backtest_run_id: str
    job_id: str | None
    ticker: str | None
    strategy: str | None
    spec: dict[str, Any]
    spec_id: str | None
    metrics: dict[str, Any]
    trades: list[dict[str, Any]]
    created_at: datetime

    @classmethod
    def of(cls, run: BacktestRun, trades: list[dict[str, Any]]) -> BacktestRunOut:
        return cls(
            backtest_run_id=run.id,
            job_id=run.job_id,
            ticker=run.ticker,
            strategy=run.strategy,
            spec=run.spec,
            spec_id=run.spec_id,
            metrics=run.metrics,
            trades=trades,
            created_at=run.created_at,
        )


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=200, description="an API key, ts_...")


class SessionOut(BaseModel):
    tenant: str
    key_prefix: str
    via: str
    expires_at: datetime | None = None


def result_summary(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A job's result as the job list shows it: all of it but :data:`LIST_OMITS`."""
    if result is None:
        return None
    return {key: value for key, value in result.items() if key not in LIST_OMITS}


def job_links(job: Job) -> dict[str, str]:
    links = {"self": f"{API}/jobs/{job.id}", "cancel": f"{API}/jobs/{job.id}/cancel"}
    result = job.result or {}
    if result.get("sweep_run_id"):
        base = f"{API}/sweeps/{result['sweep_run_id']}"
        links.update(best=f"{base}/best", results=f"{base}/results")
    if result.get("backtest_run_id"):
        links["backtest"] = f"{API}/backtests/{result['backtest_run_id']}"
    return links


def result_row_dict(row: SweepResultRow) -> dict[str, Any]:
    """Every column of a result row, flat (the CSV and the full table)."""
    out: dict[str, Any] = {
        "rank": row.rank,
        "ticker": row.ticker,
        "strategy": row.strategy,
        **dict(row.params),
        "score": row.score,
        "below_min_trades": row.below_min_trades,
    }
    for key in METRIC_COLUMNS:
        out[key] = _plain(getattr(row, key))
    return out


def _status_message(job: Job) -> str:
    return {
        "queued": "waiting for a worker",
        "running": "running",
        "completed": "done",
        "failed": "failed",
        "cancelled": "cancelled",
    }[job.status.value]


def _duration_text(days: float | None) -> str | None:
    """``"5.2 days"``: sweep rows store the duration in days only."""
    return None if days is None else format_duration(days)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def accepted(submission: Submission, response: Response) -> SubmissionOut:
    """The 202 body; a replayed Idempotency-Key is flagged in ``Idempotent-Replayed``."""
    response.headers["Location"] = f"{API}/jobs/{submission.job.id}"
    if not submission.created:
        response.headers["Idempotent-Replayed"] = "true"
    return SubmissionOut.of(submission)


def trade_dict(trade: BacktestTrade) -> dict[str, Any]:
    """One stored trade, its ``side`` (``long``/``short``) and ``exit_reason`` (``signal``,
    ``stop_loss``, ...) named as the CLI and the CSVs name them; the integer codes these
    fields used to carry are kept as ``side_code`` and ``exit_reason_code`` (deprecated)."""
    out: dict[str, Any] = {"seq": trade.seq}
    out["entry_time"] = trade.entry_time.isoformat()
    out["exit_time"] = trade.exit_time.isoformat()
    for name in TRADE_FIELDS:
        out[name] = getattr(trade, name)
    out["side"] = side_name(trade.side)
    out["exit_reason"] = EXIT_REASON_NAMES[trade.exit_reason]
    out["side_code"] = trade.side
    out["exit_reason_code"] = trade.exit_reason
    return out
