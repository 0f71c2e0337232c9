"""Jobs of every type: read one, list them (filters, cursor pages), cancel one, see its
webhook deliveries. Progress streams: :mod:`tradesweep.api.routers.stream`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from tradesweep.api.deps import PrincipalDep, SessionDep
from tradesweep.api.openapi import AUTHED, BY_ID, CURSOR
from tradesweep.api.schemas import DeliveriesOut, DeliveryOut, JobOut, JobPageOut
from tradesweep.services import jobs
from tradesweep.services.jobs import JobStatus, JobType

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=AUTHED)


@router.get("", response_model=JobPageOut)
def list_jobs(
    principal: PrincipalDep,
    session: SessionDep,
    status: JobStatus | None = None,
    type: JobType | None = None,
    ticker: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description=CURSOR)] = None,
) -> JobPageOut:
    """Your jobs, newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    page = jobs.page(
        session,
        principal.tenant_id,
        status=status,
        type=type,
        ticker=ticker.upper() if ticker else None,
        limit=limit,
        cursor=cursor,
    )
    listed = [
        JobOut.of(
            job,
            jobs.latest_progress(session, job.id) if job.status is JobStatus.RUNNING else None,
            full=False,
        )
        for job in page.items
    ]
    return JobPageOut(jobs=listed, next_cursor=page.next_cursor)


@router.get("/{job_id}", response_model=JobOut, responses=BY_ID)
def get_job(job_id: str, principal: PrincipalDep, session: SessionDep) -> JobOut:
    """Status, progress (percent and the latest message), timestamps, result, metrics, error."""
    job = jobs.find(session, principal.tenant_id, job_id)
    return JobOut.of(job, jobs.latest_progress(session, job.id))


@router.post("/{job_id}/cancel", response_model=JobOut, responses={**BY_ID, 202: {"model": JobOut}})
def cancel_job(
    job_id: str, principal: PrincipalDep, session: SessionDep, response: Response
) -> JobOut:
    """Cancel: a queued job at once (200, status cancelled), a running one within seconds
    (202, ``cancel_requested``); a finished job is returned unchanged (200)."""
    job = jobs.cancel(session, principal.tenant_id, job_id)
    if job.status is JobStatus.RUNNING:
        response.status_code = 202
    return JobOut.of(job, jobs.latest_progress(session, job.id))


@router.get("/{job_id}/deliveries", response_model=DeliveriesOut, responses=BY_ID)
def job_deliveries(job_id: str, principal: PrincipalDep, session: SessionDep) -> DeliveriesOut:
    """Every webhook delivery of the job (none without a ``webhook_url``, one when it has
    ended) with each attempt: when, the status code or error, how long it took."""
    job, views = jobs.deliveries(session, principal.tenant_id, job_id)
    return DeliveriesOut(job_id=job.id, deliveries=[DeliveryOut.model_validate(v) for v in views])
