"""Backtests: submit one as a job, read a finished run with its trades."""

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
from tradesweep.api.openapi import AUTHED, BY_ID, SUBMIT, spec_body
from tradesweep.api.schemas import (
    BacktestRunOut,
    SubmissionOut,
    accepted,
    trade_dict,
)
from tradesweep.services import results, submit, submit_spec
from tradesweep.specs import BacktestSpec

router = APIRouter(prefix="/api/v1/backtests", tags=["backtests"], responses=AUTHED)


@router.post(
    "",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=spec_body(BacktestSpec, request=submit.BacktestRequest),
    responses=SUBMIT,
    dependencies=[SubmissionLimits],
)
def submit_backtest(
    body: BodyDep,
    principal: PrincipalDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyDep = None,
) -> SubmissionOut:
    """Queue one backtest; its job's result names the ``backtest_run_id``. A JSON body with
    ``data`` is a backtest spec (``tradesweep backtest ... --print-spec``), any other body the
    request (``ticker``, ``strategy_type``, ``parameters``, ...)."""
    tickers = registry.for_tenant(principal.tenant_id).tickers()  # its own, then shared
    if submit_spec.is_spec(body) and not sent_as_form(request):
        submission = submit_spec.submit_backtest_spec(
            session,
            principal.tenant_id,
            body,
            tickers=tickers,
            idempotency_key=idempotency_key,
            defaults=settings.strategy_defaults,
        )
    else:
        submission = submit.submit_backtest(
            session,
            principal.tenant_id,
            validated(submit.BacktestRequest, body, tickers=tickers),
            idempotency_key=idempotency_key,
            defaults=settings.strategy_defaults,
        )
    return accepted(submission, response)


@router.get("/{backtest_run_id}", response_model=BacktestRunOut, responses=BY_ID)
def get_backtest(
    backtest_run_id: str, principal: PrincipalDep, session: SessionDep
) -> BacktestRunOut:
    """A finished backtest: spec, metrics and every closed trade."""
    run = results.backtest_run(session, principal.tenant_id, backtest_run_id)
    return BacktestRunOut.of(run, [trade_dict(t) for t in results.backtest_trades(session, run.id)])
