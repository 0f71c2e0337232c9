"""The endpoints of the sweep pipeline this service replaces, for its clients as they are:
``POST /api/pipelines/trigger`` queues a sweep (the fields and validation of
``POST /api/v1/strategy/sweep``), ``GET /api/pipelines/{id}`` reads it back with its best
rows. Statuses are upper case here (``QUEUED``, ``RUNNING``, ``COMPLETED``, ``FAILED``,
``CANCELLED``), as those clients expect."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

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
from tradesweep.api.openapi import BY_ID, SUBMIT, request_body
from tradesweep.api.schemas import (
    BEST_METRICS,
    ResultRowOut,
    SubmissionOut,
)
from tradesweep.services import jobs, results, submit
from tradesweep.services.jobs import Job, JobType

router = APIRouter(prefix="/api/pipelines", tags=["pipelines"])


class TriggerOut(BaseModel):
    job_id: str
    status: str = Field(description="QUEUED")
    message: str
    webhook_url: str | None = Field(description="called when the job ends (null: none)")


class PipelineOut(BaseModel):
    id: str
    status: str = Field(description="QUEUED, RUNNING, COMPLETED, FAILED or CANCELLED")
    ticker: str | None
    parameters: dict[str, Any] = Field(description="the request as validated")
    metrics: dict[str, Any] = Field(
        description="duration_seconds and combinations_tested (null until the job ends), ..."
    )
    results: list[ResultRowOut] = Field(description="ranked rows, best first (when COMPLETED)")
    sweep_run_id: str | None
    error: str | None
    webhook_url: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


@router.post(
    "/trigger",
    status_code=202,
    response_model=TriggerOut,
    openapi_extra=request_body(submit.SweepRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def trigger(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> TriggerOut:
    """Queue a sweep: ``{"ticker", "fast_range", "slow_range", "step", "min_trades",
    "strategy_type"}`` (and the other fields of ``POST /api/v1/strategy/sweep``). Without a
    ``webhook_url`` the tenant's default one is called when the job ends."""
    registry = registry.for_tenant(principal.tenant_id)  # its own datasets, then shared
    request = validated(submit.SweepRequest, body, tickers=registry.tickers())
    submission = submit.submit_sweep(
        session,
        principal.tenant_id,
        request,
        idempotency_key=idempotency_key,
        max_combinations=settings.max_sweep_combinations,
        defaults=settings.strategy_defaults,
    )
    job = submission.job
    response.headers["Location"] = f"{router.prefix}/{job.id}"
    if not submission.created:
        response.headers["Idempotent-Replayed"] = "true"
    return TriggerOut(
        job_id=job.id,
        status=job.status.value.upper(),
        message="; ".join((SubmissionOut.of(submission).message, *submission.warnings)),
        webhook_url=job.webhook_url,
    )


@router.get("/{job_id}", response_model=PipelineOut, responses=BY_ID)
def get_pipeline(
    job_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="best rows to return")] = 10,
) -> PipelineOut:
    """The sweep job: upper-case status, its parameters, ``metrics`` and, once COMPLETED,
    its best ``results`` (the rows of ``GET /api/v1/sweeps/{id}/best``)."""
    job = jobs.find(
        session,
        principal.tenant_id,
        job_id,
        type=JobType.SWEEP,
        what="pipeline job",
        fix="use the job_id answered by POST /api/pipelines/trigger",
    )
    run_id = (job.result or {}).get("sweep_run_id")
    rows = results.best_rows(session, run_id, None, limit) if run_id else []
    return PipelineOut(
        id=job.id,
        status=job.status.value.upper(),
        ticker=job.ticker,
        parameters=(job.parameters or {}).get("request", {}),
        metrics=_metrics(job),
        results=[ResultRowOut.of(row, BEST_METRICS) for row in rows],
        sweep_run_id=run_id,
        error=job.error,
        webhook_url=job.webhook_url,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
    )


def _metrics(job: Job) -> dict[str, Any]:
    stored = job.metrics or {}
    return {
        "duration_seconds": stored.get("duration_seconds"),
        "combinations_tested": stored.get("combinations_tested"),
        **stored,
    }
