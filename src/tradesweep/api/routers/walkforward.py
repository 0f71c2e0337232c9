"""Walk-forward analyses: submitted as jobs; the job's result holds the whole report."""

from __future__ import annotations

from fastapi import APIRouter, Response

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
from tradesweep.api.openapi import SUBMIT, request_body
from tradesweep.api.schemas import SubmissionOut, accepted
from tradesweep.services import submit

router = APIRouter(prefix="/api/v1/walkforward", tags=["walkforward"])


@router.post(
    "",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=request_body(submit.WalkForwardRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def submit_walkforward(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    response: Response,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> SubmissionOut:
    """Queue a walk-forward analysis (the sweep fields plus ``train_bars``, ``test_bars``,
    ``step_bars``, ``anchored``); read its report from ``GET /api/v1/jobs/{job_id}``."""
    registry = registry.for_tenant(principal.tenant_id)  # its own datasets, then shared
    request = validated(submit.WalkForwardRequest, body, tickers=registry.tickers())
    submission = submit.submit_walkforward(
        session,
        principal.tenant_id,
        request,
        idempotency_key=idempotency_key,
        max_combinations=settings.max_sweep_combinations,
        bars=registry.info(request.ticker).rows,
        defaults=settings.strategy_defaults,
    )
    return accepted(submission, response)
