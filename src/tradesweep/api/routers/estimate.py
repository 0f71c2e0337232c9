"""How big a sweep or walk-forward would be, before submitting it: the same body and the same
validation as the submission, answered with the grid and valid combination counts and the
duration estimate the submission would give. Nothing is stored.

Mounted before the sweeps router: ``/sweeps/estimate`` would otherwise be read as
``/sweeps/{sweep_run_id}``. Every other verb on these paths is a 405 naming POST."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from tradesweep.api.deps import BodyDep, CallerDep, RegistryDep, SettingsDep, validated
from tradesweep.api.openapi import BODY, request_body
from tradesweep.api.settings import ApiSettings
from tradesweep.errors import ParameterError
from tradesweep.services import submit
from tradesweep.specs import SweepSpec
from tradesweep.sweep.runner import plan_sweep
from tradesweep.sweep.walkforward import check_fits

router = APIRouter(prefix="/api/v1", tags=["estimate"], responses=BODY)

WALKFORWARD_WINDOWS = 5
"""The window count :func:`tradesweep.services.submit.submit_walkforward` estimates with."""


class EstimateOut(BaseModel):
    ticker: str
    strategy: str
    bars: int = Field(description="bars of the ticker's dataset")
    grid_combinations: int = Field(description="size of the full grid")
    combinations: int = Field(description="valid combinations: what will be backtested")
    estimated_duration_seconds: float


def _cap(settings: ApiSettings) -> int:
    """The submissions' grid cap, so an estimate refuses what a submission would refuse."""
    return settings.max_sweep_combinations


def _estimate(
    spec: SweepSpec, settings: ApiSettings, ticker: str, bars: int, windows: int = 1
) -> EstimateOut:
    space = plan_sweep(spec).space
    valid = space.valid_count
    if valid == 0:
        raise ParameterError(
            f"no valid combination among the {space.grid_size:,} of the grid: every one breaks "
            f"a rule of strategy '{spec.strategy}'",
            fix="widen the ranges, e.g. keep every fast period below the slow ones",
            field="ranges",
        )
    return EstimateOut(
        ticker=ticker,
        strategy=spec.strategy,
        bars=bars,
        grid_combinations=space.grid_size,
        combinations=valid,
        estimated_duration_seconds=submit.estimate_seconds(valid, windows=windows),
    )


@router.post(
    "/sweeps/estimate",
    response_model=EstimateOut,
    openapi_extra=request_body(submit.SweepRequest),
)
def estimate_sweep(
    caller: CallerDep, body: BodyDep, registry: RegistryDep, settings: SettingsDep
) -> EstimateOut:
    """The body of ``POST /api/v1/strategy/sweep``, checked the same way; 422 names the field. Any
    other method on this path answers 405 with ``Allow: POST``."""
    registry = registry.for_tenant(caller.tenant_id)  # its own datasets, then shared
    request = validated(submit.SweepRequest, body, tickers=registry.tickers())
    with submit.request_fields(request):
        spec = submit.sweep_spec(
            request, max_combinations=_cap(settings), defaults=settings.strategy_defaults
        )
        return _estimate(spec, settings, request.ticker, registry.info(request.ticker).rows)


@router.post(
    "/walkforward/estimate",
    response_model=EstimateOut,
    openapi_extra=request_body(submit.WalkForwardRequest),
)
def estimate_walkforward(
    caller: CallerDep, body: BodyDep, registry: RegistryDep, settings: SettingsDep
) -> EstimateOut:
    """The body of ``POST /api/v1/walkforward``, checked the same way; 422 names the field. Any
    other method on this path answers 405 with ``Allow: POST``."""
    registry = registry.for_tenant(caller.tenant_id)  # its own datasets, then shared
    request = validated(submit.WalkForwardRequest, body, tickers=registry.tickers())
    bars = registry.info(request.ticker).rows
    with submit.request_fields(request):
        spec = submit.walkforward_spec(
            request, max_combinations=_cap(settings), defaults=settings.strategy_defaults
        )
        check_fits(spec, bars)
        return _estimate(spec.sweep, settings, request.ticker, bars, windows=WALKFORWARD_WINDOWS)


def _post_only() -> None:
    raise HTTPException(405, "this endpoint takes POST only", headers={"Allow": "POST"})


for _path in ("/sweeps/estimate", "/walkforward/estimate"):
    router.add_api_route(
        _path,
        _post_only,
        methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
