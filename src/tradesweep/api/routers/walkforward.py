"""Walk-forward analyses: submitted as jobs; the job's result holds the whole report."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tradesweep.api.deps import (
    BodyDep,
    IdempotencyKeyDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SettingsDep,
    SubmissionLimits,
    sent_as_form,
    validated,
)
from tradesweep.api.openapi import SUBMIT, spec_body
from tradesweep.api.schemas import SubmissionOut, accepted
from tradesweep.services import submit, submit_spec
from tradesweep.specs import WalkForwardSpec

router = APIRouter(prefix="/api/v1/walkforward", tags=["walkforward"])


@router.post(
    "",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=spec_body(WalkForwardSpec, request=submit.WalkForwardRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def submit_walkforward(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> SubmissionOut:
    """Queue a walk-forward analysis (the sweep fields plus ``train_bars``, ``test_bars``,
    ``step_bars``, ``anchored``); read its report from ``GET /api/v1/jobs/{job_id}``. A JSON
    body with ``data`` is a walk-forward spec (``tradesweep walkforward ... --print-spec``)."""
    registry = registry.for_tenant(principal.tenant_id)  # its own datasets, then shared
    if submit_spec.is_spec(body) and not sent_as_form(request):
        spec_submission = submit_spec.submit_walkforward_spec(
            session,
            principal.tenant_id,
            body,
            tickers=registry.tickers(),
            bars=lambda ticker: registry.info(ticker).rows,
            idempotency_key=idempotency_key,
            max_combinations=settings.max_sweep_combinations,
            defaults=settings.strategy_defaults,
        )
        return accepted(spec_submission, response)
    sent = validated(submit.WalkForwardRequest, body, tickers=registry.tickers())
    submission = submit.submit_walkforward(
        session,
        principal.tenant_id,
        sent,
        idempotency_key=idempotency_key,
        max_combinations=settings.max_sweep_combinations,
        bars=registry.info(sent.ticker).rows,
        defaults=settings.strategy_defaults,
    )
    return accepted(submission, response)
