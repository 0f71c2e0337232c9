"""The endpoints of the backtest orchestrator this service replaces, for its clients as they
are: ``POST /api/backtest/run`` queues one backtest, ``GET /api/backtest/{id}/status`` follows
it, ``GET /api/backtest/{id}/results`` reads its trades, P&L and metrics.

``strategy_name`` is a built-in (``sma_crossover``, or ``SMA``/``EMA``/``MACD``) or a stored
declarative strategy: ``<name>.yaml`` in the server's strategies folder
(``<data dir>/strategies``; workers read the same file, so they must share that folder as they
share the datasets). ``timeframe`` resamples the bars, ``start_date``/``end_date`` (inclusive)
slice them, ``initial_capital`` is the engine's starting cash. The job is an ordinary
``backtest`` job: ``/api/v1/jobs/{id}`` shows it too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

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
from tradesweep.data import DatasetRegistry
from tradesweep.data.interval import parse_rule, rule_span
from tradesweep.errors import DataError, ParameterError, StrategyError, TradesweepError
from tradesweep.notify import validate_webhook_url
from tradesweep.services import submit
from tradesweep.services.backtest import BacktestSpec
from tradesweep.store import BacktestRepository, Job, JobRepository, JobStatus, JobType, NotFound
from tradesweep.strategies import get_strategy
from tradesweep.strategies.builtins import BUILTINS

router = APIRouter(prefix="/api/backtest", tags=["backtest (orchestrator clients)"])
STORED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A stored strategy's name: a file name in the strategies folder, never a path."""
DEFAULT_CAPITAL = 10_000.0


class BacktestRunRequest(BaseModel):
    """A backtest as orchestrator clients send it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    strategy_name: str = Field(
        min_length=1,
        max_length=64,
        description="A built-in (sma_crossover, SMA, EMA, MACD, rsi, ...) or a stored YAML "
        "strategy's name",
    )
    symbol: str = Field(description="A registered ticker, e.g. GOOGL")
    timeframe: str | None = Field(
        None, max_length=16, description="Bar interval to resample to, e.g. 1d, 4h, 1w"
    )
    start_date: date | None = Field(None, description="First day, e.g. 2015-01-01")
    end_date: date | None = Field(None, description="Last day (inclusive), e.g. 2018-12-31")
    initial_capital: submit.Real = Field(
        DEFAULT_CAPITAL, gt=0, le=1e12, description="Starting cash, e.g. 10000"
    )
    parameters: dict[str, submit.Int | submit.Real] = Field(
        default_factory=dict,
        description='Strategy parameters, e.g. {"fast": 10, "slow": 30}; default the '
        "strategy's defaults",
    )
    webhook_url: str | None = Field(None, description="Called when the job ends")

    @field_validator("symbol")
    @classmethod
    def known_symbol(cls, value: str, info: ValidationInfo) -> str:
        symbol = value.upper()
        tickers = (info.context or {}).get("tickers")
        if tickers is not None and symbol not in tickers:
            raise PydanticCustomError(
                "unknown_ticker",
                "unknown symbol '{symbol}' (registered: {known})",
                {"symbol": symbol[:40], "known": ", ".join(sorted(tickers))},
            )
        return symbol

    @field_validator("timeframe")
    @classmethod
    def bar_rule(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_rule(value)
            except DataError:
                raise PydanticCustomError(
                    "unknown_timeframe",
                    "unknown timeframe '{value}' (give a number and a unit, e.g. 4h, 1d, 1w)",
                    {"value": value},
                ) from None
        return value or None

    @field_validator("end_date")
    @classmethod
    def end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if end is not None and start is not None and end < start:
            raise PydanticCustomError(
                "dates_reversed",
                "end_date {end} is before start_date {start}",
                {"end": end.isoformat(), "start": start.isoformat()},
            )
        return end

    @field_validator("webhook_url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        if value:
            try:
                validate_webhook_url(value, allow_private=True)  # addresses: when delivered
            except TradesweepError as exc:
                raise PydanticCustomError(
                    "invalid_webhook_url", "{reason}", {"reason": exc.message}
                ) from None
        return value or None


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
    metrics: dict[str, Any]
    trades: list[dict[str, Any]]
    backtest_run_id: str


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
    spec = run_spec(request, settings.strategies_dir, registry)
    job, created = JobRepository(session).create(
        principal.tenant_id,
        JobType.BACKTEST,
        {"spec": spec.to_dict(), "request": request.model_dump(mode="json", exclude_none=True)},
        ticker=request.symbol,
        webhook_url=request.webhook_url or submit.tenant_webhook_url(session, principal.tenant_id),
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"{router.prefix}/{job.id}/status"
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return RunOut(
        id=job.id,
        job_id=job.id,
        status=job.status.value,
        message="Backtest job queued" if created else "Idempotency-Key seen before: the job",
        created_at=job.created_at,
        links=_links(job),
    )


@router.get("/{job_id}/status", response_model=StatusOut, responses=BY_ID)
def status(job_id: str, principal: PrincipalDep, session: SessionDep) -> StatusOut:
    """Where the backtest is: queued, running, completed, failed or cancelled."""
    job = _job(session, principal.tenant_id, job_id)
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
    response_model=ResultsOut,
    responses={**BY_ID, 409: {"model": ErrorOut, "description": "the job has not completed"}},
)
def results(job_id: str, principal: PrincipalDep, session: SessionDep) -> ResultsOut:
    """A completed backtest's closed trades, total P&L, winning and losing trade counts and
    metrics; 409 ``not_ready`` before it completes."""
    job = _job(session, principal.tenant_id, job_id)
    run_id = (job.result or {}).get("backtest_run_id")
    repo = BacktestRepository(session)
    stored = repo.get(principal.tenant_id, run_id) if run_id else None
    if job.status is not JobStatus.COMPLETED or stored is None:
        why = f" ({job.error})" if job.error else ""
        raise NotReady(
            f"backtest {job.id} is {job.status.value}{why}: results come when it completes",
            fix=f"poll GET {router.prefix}/{job.id}/status until status is completed",
            field="job_id",
            status=job.status.value,
        )
    trades = repo.trades(stored.id)
    pnls = [t.pnl for t in trades if t.pnl is not None]
    request = (job.parameters or {}).get("request", {})
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
        metrics=stored.metrics,
        trades=[trade_dict(t) for t in trades],
        backtest_run_id=stored.id,
    )


# ---- the request as a spec ---------------------------------------------------------------


def run_spec(
    request: BacktestRunRequest, strategies_dir: Path, registry: DatasetRegistry
) -> BacktestSpec:
    """The backtest spec of a request: the strategy resolved, its parameters checked, the
    window checked against the dataset (a finer timeframe than the data, or dates outside
    it, are refused here rather than failing in the worker)."""
    strategy = resolve_strategy(request.strategy_name, strategies_dir)
    _check_window(request, registry)
    spec = BacktestSpec.from_dict(
        {
            "data": request.symbol,
            "strategy": strategy,
            "params": dict(request.parameters),
            "settings": {"cash": request.initial_capital},
            "timeframe": request.timeframe,
            "start": request.start_date.isoformat() if request.start_date else None,
            "end": request.end_date.isoformat() if request.end_date else None,
        }
    )
    try:
        get_strategy(spec.strategy, spec.params)  # unknown names, bounds, cross rules
    except ParameterError as exc:
        raise _named(exc, strategy, request.strategy_name, "parameters") from None
    except TradesweepError as exc:  # a stored strategy's file that does not parse
        raise _named(exc, strategy, request.strategy_name, "strategy_name") from None
    return spec


def _named(exc: TradesweepError, path: str, name: str, field: str) -> TradesweepError:
    """``exc`` made fit for the client: naming ``field`` and the stored strategy ``name``,
    never the server path of its file."""
    exc.message = _unpathed(exc.message, path, name)
    exc.fix = _unpathed(exc.fix, path, name)
    details = {k: _unpathed(v, path, name) for k, v in exc.details.items() if k != "file"}
    exc.details = {**details, "field": field}
    return exc


def _unpathed(value: Any, path: str, name: str) -> Any:
    return value.replace(path, f"stored strategy '{name}'") if isinstance(value, str) else value


def resolve_strategy(name: str, strategies_dir: Path) -> str:
    """A built-in's name, or the path of the stored ``<name>.yaml`` / ``.yml``;
    :class:`StrategyError` naming ``strategy_name`` otherwise."""
    builtin = submit.strategy_name(name)
    if builtin in BUILTINS:
        return builtin
    stem = re.sub(r"\.ya?ml$", "", name)
    if STORED_NAME.match(stem):
        for suffix in (".yaml", ".yml"):
            path = strategies_dir / f"{stem}{suffix}"
            if path.is_file():
                return str(path.resolve())
    stored = (
        sorted(p.stem for p in strategies_dir.glob("*.y*ml")) if strategies_dir.is_dir() else []
    )
    choices = ", ".join([*submit.STRATEGY_ALIASES, *BUILTINS, *stored])
    raise StrategyError(
        f"unknown strategy '{name[:64]}'",
        fix=f"give one of: {choices} (a stored strategy is named without its .yaml)",
        field="strategy_name",
    )


def _check_window(request: BacktestRunRequest, registry: DatasetRegistry) -> None:
    info = registry.info(request.symbol)
    if request.timeframe and info.interval:
        span = rule_span(parse_rule(request.timeframe))
        if span < pd.Timedelta(info.interval):
            raise DataError(
                f"timeframe '{request.timeframe}' is finer than the {info.interval} bars of "
                f"{request.symbol}",
                fix=f"give a timeframe of at least {info.interval}, or leave it out",
                field="timeframe",
            )
    first, last = info.first.date(), info.last.date()
    if request.start_date is not None and request.start_date > last:
        raise DataError(
            f"start_date {request.start_date} is after the last bar of {request.symbol} ({last})",
            fix=f"choose dates within {first}..{last}",
            field="start_date",
        )
    if request.end_date is not None and request.end_date < first:
        raise DataError(
            f"end_date {request.end_date} is before the first bar of {request.symbol} ({first})",
            fix=f"choose dates within {first}..{last}",
            field="end_date",
        )


def _job(session: Session, tenant_id: int, job_id: str) -> Job:
    job = JobRepository(session).get(tenant_id, job_id)
    if job is None or job.type is not JobType.BACKTEST:
        raise NotFound(
            f"no backtest {job_id!r}",
            fix="use the id answered by POST /api/backtest/run",
            field="job_id",
        )
    return job


def _links(job: Job) -> dict[str, str]:
    base = f"{router.prefix}/{job.id}"
    return {
        "status": f"{base}/status",
        "results": f"{base}/results",
        "job": f"/api/v1/jobs/{job.id}",
    }
