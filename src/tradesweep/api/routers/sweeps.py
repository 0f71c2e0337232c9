"""Sweeps: submit one as its spec (``POST /api/v1/sweeps``, what ``tradesweep sweep
--print-spec`` prints) or as the form clients' request (``POST /api/v1/strategy/sweep``), read
a run, its best rows and the full table (JSON pages or CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from tradesweep.api.deps import (
    BodyDep,
    IdempotencyKeyDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SessionsDep,
    SettingsDep,
    SubmissionLimits,
    sent_as_form,
    validated,
)
from tradesweep.api.errors import UnsupportedMediaType
from tradesweep.api.openapi import BY_ID, CURSOR, SUBMIT, request_body, spec_body
from tradesweep.api.schemas import (
    BEST_METRICS,
    BestOut,
    ResultPageOut,
    ResultRowOut,
    SubmissionOut,
    SweepRunOut,
    accepted,
    result_row_dict,
)
from tradesweep.reports.csv_format import csv_cell
from tradesweep.services import results as stored
from tradesweep.services import submit, submit_spec
from tradesweep.services.results import METRIC_COLUMNS
from tradesweep.specs import SweepSpec

router = APIRouter(prefix="/api/v1", tags=["sweeps"])

TickerQuery = Annotated[
    str | None, Query(min_length=1, max_length=40, description="only this ticker's rows")
]


@router.post(
    "/strategy/sweep",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=request_body(submit.SweepRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def submit_sweep(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    response: Response,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> SubmissionOut:
    """Queue a parameter sweep (JSON or form fields). Answers 202 with the job id; poll
    ``GET /api/v1/jobs/{job_id}``, then read ``/api/v1/sweeps/{sweep_run_id}/best``."""
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
    return accepted(submission, response)


@router.post(
    "/sweeps",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=spec_body(SweepSpec),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def submit_sweep_spec(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> SubmissionOut:
    """Queue a sweep given as its spec's JSON (``tradesweep sweep ... --print-spec``):
    ``data`` a ticker registered for your tenant, ``strategy`` a built-in, no ``plugins``,
    ``preset`` a built-in name. Answers 202 like ``POST /api/v1/strategy/sweep``."""
    if sent_as_form(request):
        raise UnsupportedMediaType(
            "a sweep spec is JSON, not form fields",
            fix="send it as application/json, or send form fields to POST /api/v1/strategy/sweep",
        )
    submission = submit_spec.submit_sweep_spec(
        session,
        principal.tenant_id,
        body,
        tickers=registry.for_tenant(principal.tenant_id).tickers(),
        idempotency_key=idempotency_key,
        max_combinations=settings.max_sweep_combinations,
        defaults=settings.strategy_defaults,
    )
    return accepted(submission, response)


@router.get("/sweeps/{sweep_run_id}", response_model=SweepRunOut, responses=BY_ID)
def get_sweep(sweep_run_id: str, principal: PrincipalDep, session: SessionDep) -> SweepRunOut:
    """A sweep run (or the newest run of a sweep job): its spec, counts and diagnostics."""
    return SweepRunOut.of(stored.sweep_run(session, principal.tenant_id, sweep_run_id))


@router.get("/sweeps/{sweep_run_id}/best", response_model=BestOut, responses=BY_ID)
def best(
    sweep_run_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    ticker: TickerQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> BestOut:
    """The ranked rows with the highest score, best first. ``sweep_run_id`` may also be the
    sweep's job id."""
    run = stored.sweep_run(session, principal.tenant_id, sweep_run_id)
    ticker = ticker.upper() if ticker else None
    rows = stored.best_rows(session, run.id, ticker, limit)
    return BestOut(
        sweep_run_id=run.id,
        job_id=run.job_id,
        ticker=ticker or run.ticker,
        results=[ResultRowOut.of(row, BEST_METRICS) for row in rows],
        total_results=stored.count_rows(session, run.id, ticker, ranked=False),
        ranked_results=stored.count_rows(session, run.id, ticker, ranked=True),
        returned=len(rows),
        query_timestamp=datetime.now(UTC),
    )


@router.get(
    "/sweeps/{sweep_run_id}/results",
    response_model=ResultPageOut,
    responses={**BY_ID, 200: {"content": {"text/csv": {}}}},
)
def results(
    sweep_run_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200, description=CURSOR)] = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: every row")] = "json",
) -> ResultPageOut | StreamingResponse:
    """Every evaluated row in stored order (rank order), ``limit`` per page; ``format=csv``
    streams the whole table as CSV."""
    run = stored.sweep_run(session, principal.tenant_id, sweep_run_id)
    if format == "csv":
        return StreamingResponse(
            _csv(sessions, run.id),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="sweep-{run.id}.csv"'},
        )
    page, total = stored.result_page(session, run.id, limit=limit, cursor=cursor)
    return ResultPageOut(
        sweep_run_id=run.id,
        results=[ResultRowOut.of(row, ("score", *METRIC_COLUMNS)) for row in page.items],
        total_results=total,
        returned=len(page.items),
        next_cursor=page.next_cursor,
    )


def _csv(sessions: SessionsDep, run_id: str) -> Iterator[str]:
    """The table in batches, each read in its own short transaction (a long read would hold
    SQLite's lock for the whole download)."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for batch in stored.row_batches(sessions, run_id):
        for row in batch:
            record = {name: csv_cell(name, value) for name, value in result_row_dict(row).items()}
            if writer is None:
                writer = csv.DictWriter(buffer, fieldnames=list(record), extrasaction="ignore")
                writer.writeheader()
            writer.writerow(record)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
