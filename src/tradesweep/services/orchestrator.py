"""The backtest orchestrator's requests as tradesweep jobs, for its clients as they are.

The compat router (``tradesweep.api.routers.backtest_compat``) only validates a request into
one of these models and calls these functions; this module resolves the orchestrator's
strategy names, turns its dates into the spec's window, stores the job and reads it back::

    request = BacktestRunRequest.model_validate(body, context={"tickers": registry.tickers()})
    spec = run_spec(request, strategies_dir, registry)
    submission = submit_job(session, tenant_id, request, spec, idempotency_key=None)

Dates: ``start_date`` / ``end_date`` are days (``2024-02-01``: the whole day, an end day
included) or ISO-8601 datetimes (``2024-02-07T23:59:59Z``, inclusive; a datetime without an
offset is UTC). Strategy names: a built-in, one of :data:`STRATEGY_NAMES` (the names of the
orchestrator's own strategy files, each mapped to the built-in with the same rule and the same
periods), or a stored ``<name>.yaml`` in the server's strategies folder, which wins over a
name of :data:`STRATEGY_NAMES` (store the orchestrator's own file to get its stops and size).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from tradesweep.data import DatasetInfo, DatasetRegistry
from tradesweep.data.interval import parse_rule, rule_span
from tradesweep.data.window import bound_instant
from tradesweep.errors import DataError, ParameterError, StrategyError, TradesweepError
from tradesweep.metrics import KEYS, to_json_safe
from tradesweep.notify import validate_webhook_url
from tradesweep.services import submit
from tradesweep.specs import DEFAULT_MIN_TRADES, BacktestSpec, SweepSpec, WalkForwardSpec
from tradesweep.store import (
    BacktestRepository,
    Job,
    JobRepository,
    JobType,
    NotFound,
    SweepResultRepository,
)
from tradesweep.store.models import BacktestRun, BacktestTrade, SweepResultRow
from tradesweep.strategies import get_strategy
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.defaults import DefaultsOverride, resolve_defaults
from tradesweep.strategies.registry import Defaults
from tradesweep.sweep.ranking import OBJECTIVES
from tradesweep.sweep.runner import plan_sweep

DAYS_PER_MONTH = 365.25 / 12
MAX_ALL_RESULTS = 10_000
"""The most rows an optimize job's ``all_results`` lists (the rest: ``/api/v1/sweeps``)."""
STORED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A stored strategy's name: a file name in the strategies folder, never a path."""
DEFAULT_CAPITAL = 10_000.0
COMPAT = "orchestrator"
"""``job.parameters["client"]`` of the jobs these endpoints make."""

STRATEGY_NAMES: dict[str, str] = {
    "ma_crossover_strategy": "sma_crossover",
    "ma_crossover": "sma_crossover",
    "sma_crossover_strategy": "sma_crossover",
    "ema_crossover_strategy": "ema_crossover",
    "ema_crossover": "ema_crossover",
    "macd_strategy": "macd",
    "macd_crossover_strategy": "macd",
    "rsi_strategy": "rsi",
    "bollinger_strategy": "bollinger",
    "bollinger_bands_strategy": "bollinger",
}
"""The orchestrator's strategy names and the built-in with the same rule. Its
``ma_crossover_strategy.yaml`` is an SMA 10/30 crossover (the defaults of ``sma_crossover``),
its ``ema_crossover_strategy.yaml`` an EMA 12/26 crossover (those of ``ema_crossover``); the
file's stops and position size are not part of the name's meaning."""


FIRST_YEAR = 1900
LAST_YEAR = 2200
"""The years a date may name: well inside what pandas' nanosecond timestamps hold
(1677-2262), so a day's last instant and a UTC offset stay in range too."""
_YEARS = r"(19[0-9]{2}|2[01][0-9]{2}|2200)-"
DATE_PATTERN = rf"^{_YEARS}"
"""The schema's pattern for a date or datetime text: the year as written (before any offset
is applied) within :data:`FIRST_YEAR`..:data:`LAST_YEAR`."""
_LEAP_SECOND = re.compile(r"(?<=[Tt ][0-9]{2}:[0-9]{2}):60")


def _date_or_time(value: Any) -> Any:
    """``2024-02-01`` -> a date; ``2024-02-01T00:00:00Z`` -> an aware UTC datetime; a year
    outside :data:`FIRST_YEAR`..:data:`LAST_YEAR`, or anything but a text, is refused."""
    if isinstance(value, date):
        return _in_years(value, value.isoformat())
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_date",
            "{kind} is not a date or datetime (give a text: 2024-02-01 or "
            "2024-02-01T00:00:00Z, in the years {first}-{last})",
            {"kind": type(value).__name__, "first": FIRST_YEAR, "last": LAST_YEAR},
        )
    text = value.strip()
    try:
        # RFC 3339 also allows a lower-case t and z, and a leap second (read as the one before)
        stamp = (
            date.fromisoformat(text)
            if len(text) == 10
            else datetime.fromisoformat(_LEAP_SECOND.sub(":59", text.upper()))
        )
    except ValueError:
        raise PydanticCustomError(
            "invalid_date",
            "'{value}' is not a date or datetime (give 2024-02-01 or 2024-02-01T00:00:00Z, "
            "in the years {first}-{last})",
            {"value": text[:40], "first": FIRST_YEAR, "last": LAST_YEAR},
        ) from None
    _in_years(stamp, text)
    if not isinstance(stamp, datetime):
        return stamp
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _in_years(value: date, text: str) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError(
            "date_out_of_range",
            "'{value}' is outside the supported years {first}-{last} (give a date from "
            "{first}-01-01 to {last}-12-31)",
            {"value": text[:40], "first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return value


_DATE_SCHEMA = {
    "anyOf": [
        {"type": "string", "format": "date-time", "pattern": DATE_PATTERN},
        {"type": "string", "format": "date", "pattern": DATE_PATTERN},
    ],
    "description": f"A day (2024-02-01) or an ISO-8601 datetime (2024-02-01T00:00:00Z), in the "
    f"years {FIRST_YEAR}-{LAST_YEAR}",
}
DateOrTime = Annotated[
    datetime | date, BeforeValidator(_date_or_time), WithJsonSchema(_DATE_SCHEMA)
]


def spec_bound(value: date | None) -> str | None:
    """A bound as the spec's ``start`` / ``end`` text (a day stays a day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _instant(value: date, *, end: bool) -> pd.Timestamp:
    """The first (or, ``end``, last) instant a bound admits, as the spec's window reads it."""
    return bound_instant(str(spec_bound(value)), end=end)


def _check_order(start: date | None, end: date | None, message: str) -> None:
    """Refuse an ``end`` bound before the ``start`` one (``message`` names them)."""
    if (
        start is not None
        and end is not None
        and _instant(end, end=True) < _instant(start, end=False)
    ):
        raise PydanticCustomError(
            "dates_reversed", message, {"end": end.isoformat(), "start": start.isoformat()}
        )


_BLANKS = " \t\n\r"
_DAYS = "MON|TUE|WED|THU|FRI|SAT|SUN"
TIMEFRAME_PATTERN = (
    r"^[ \t\n\r]*("
    r"([1-9][0-9]{0,3})?(s|sec|S|m|min|T|t|h|H|d|D|[wW](-(" + _DAYS + "|" + _DAYS.lower() + r"))?)"
    r"|([1-9][0-9]{0,2})?(M|MS|ME|q|Q|QS|QE)"
    r"|([1-9][0-9]?)?(y|Y|YS|YE|A)"
    r")?[ \t\n\r]*$"
)
"""A ``timeframe`` the requests accept (and the schema states): a count and a unit of
:func:`~tradesweep.data.interval.parse_rule`, small enough that a period stays within pandas'
timestamps (9999 weeks, 999 quarters, 99 years); blank is none."""
TIMEFRAME = re.compile(TIMEFRAME_PATTERN)


# ---- requests ------------------------------------------------------------------------------


class _OrchestratorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    strategy_name: str = Field(
        min_length=1,
        max_length=64,
        description="A built-in (sma_crossover, SMA, EMA, MACD, rsi, ...), an orchestrator "
        "name (ma_crossover_strategy, ema_crossover_strategy, ...) or a stored YAML strategy",
    )
    symbol: str = Field(description="A registered ticker, e.g. EURUSD")
    timeframe: str | None = Field(
        None, max_length=16, description="Bar interval to resample to, e.g. 1h, 4h, 1d"
    )
    initial_capital: submit.Real = Field(
        DEFAULT_CAPITAL, gt=0, le=1e12, description="Starting cash, e.g. 10000"
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

    @field_validator("timeframe", mode="before")
    @classmethod
    def bar_rule(cls, value: Any) -> Any:
        """:data:`TIMEFRAME_PATTERN` on the text as sent (the schema states the same rule)."""
        if not isinstance(value, str):
            return value  # the type check names it
        if not TIMEFRAME.fullmatch(value):
            raise PydanticCustomError(
                "unknown_timeframe",
                "unknown timeframe '{value}' (give a number and a unit: s, m/min, h, d, w, "
                "up to 9999 of them; M or Q up to 999; y up to 99; e.g. 4h, 1d, 1w)",
                {"value": value[:20]},
            )
        text = value.strip(_BLANKS)
        if text:
            parse_rule(text)  # what the pattern admits parses; a DataError is a bug here
        return text or None

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

    @field_validator("end_date", check_fields=False)
    @classmethod
    def end_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        """For the requests with ``start_date`` and ``end_date``."""
        _check_order(
            info.data.get("start_date"), end, "end_date {end} is before start_date {start}"
        )
        return end

    @property
    def window(self) -> tuple[date | None, date | None]:
        return None, None


class BacktestRunRequest(_OrchestratorRequest):
    """``POST /api/backtest/run``: one backtest as orchestrator clients send it."""

    start_date: DateOrTime | None = None
    end_date: DateOrTime | None = Field(None, description="The last day or instant (inclusive)")
    parameters: dict[str, submit.Int | submit.Real] = Field(
        default_factory=dict,
        description='Strategy parameters, e.g. {"fast": 10, "slow": 30}; default the '
        "strategy's defaults",
    )

    @property
    def window(self) -> tuple[date | None, date | None]:
        return self.start_date, self.end_date


OBJECTIVE_NAMES: dict[str, str] = {
    "sharpe_ratio": "sharpe_ratio",
    "total_pnl": "total_return_pct",
    "win_rate": "win_rate_pct",
}
"""The orchestrator's objectives and the sweep objective that ranks the same way (the P&L
over the same starting cash orders like the total return)."""
SETTING_AXES: dict[str, str] = {
    "stop_loss": "stop_loss",
    "take_profit": "take_profit",
    "trailing_stop": "trailing_stop",
    "position_size": "size",
    "size": "size",
    "max_drawdown": "max_drawdown",
    "atr_stop": "stop_loss_atr",
}
"""Engine settings an ``optimize_params`` entry may name, as the sweep calls them."""
Number = submit.Int | submit.Real
AxisValues = Annotated[list[Number], Field(min_length=1, max_length=1000)]


class _SweepingRequest(_OrchestratorRequest):
    optimize_params: dict[str, AxisValues] = Field(
        min_length=1,
        description='The values to try per parameter, e.g. {"fast": [5, 10, 15], "slow": [30, 40]}',
    )
    parameters: dict[str, Number] = Field(
        default_factory=dict, description="Strategy parameters held fixed"
    )
    objective: str = Field(
        "sharpe_ratio",
        description="What picks the best: sharpe_ratio, total_pnl or win_rate (or any "
        "tradesweep objective)",
    )
    min_trades: submit.Int = Field(
        DEFAULT_MIN_TRADES,
        ge=0,
        le=submit.MAX_MIN_TRADES,
        description="Combinations with fewer closed trades are not ranked (default "
        f"{DEFAULT_MIN_TRADES}, as everywhere)",
    )

    @field_validator("objective")
    @classmethod
    def known_objective(cls, value: str) -> str:
        if value not in OBJECTIVE_NAMES and value not in OBJECTIVES:
            raise PydanticCustomError(
                "unknown_objective",
                "unknown objective '{value}' (give one of: {known})",
                {"value": value[:40], "known": ", ".join([*OBJECTIVE_NAMES, *OBJECTIVES])},
            )
        return value


def _date_range(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2 and all(v is None for v in value):
        return None
    return value


class OptimizeRequest(_SweepingRequest):
    """``POST /api/backtest/optimize``: every combination of ``optimize_params``, ranked by
    ``objective``."""

    date_range: Annotated[tuple[DateOrTime, DateOrTime], BeforeValidator(_date_range)] | None = (
        Field(None, description='[start, end], inclusive, e.g. ["2024-01-01", "2024-03-01"]')
    )

    @field_validator("date_range")
    @classmethod
    def ordered(cls, value: tuple[date, date] | None) -> tuple[date, date] | None:
        if value is not None:
            message = "the end {end} is before the start {start} (give [start, end])"
            _check_order(value[0], value[1], message)
        return value

    @property
    def window(self) -> tuple[date | None, date | None]:
        return self.date_range or (None, None)


class WalkForwardRunRequest(_SweepingRequest):
    """``POST /api/backtest/walk-forward``: optimise on one window of ``window_size_months``,
    test the best parameters on the next, roll on by one window."""

    start_date: DateOrTime | None = None
    end_date: DateOrTime | None = Field(None, description="The last day or instant (inclusive)")
    window_size_months: submit.Int = Field(
        ge=1, le=120, description="Months in each training and each test window, e.g. 3"
    )

    @property
    def window(self) -> tuple[date | None, date | None]:
        return self.start_date, self.end_date


# ---- strategies ----------------------------------------------------------------------------


def resolve_strategy(name: str, strategies_dir: Path) -> str:
    """A built-in's name, the path of the stored ``<name>.yaml`` / ``.yml``, or the built-in
    an orchestrator name means; :class:`StrategyError` naming ``strategy_name`` otherwise."""
    builtin = submit.strategy_name(name)
    if builtin in BUILTINS:
        return builtin
    stem = re.sub(r"\.ya?ml$", "", name)
    if STORED_NAME.match(stem):
        for suffix in (".yaml", ".yml"):
            path = strategies_dir / f"{stem}{suffix}"
            if path.is_file():
                return str(path.resolve())
    if name.lower() in STRATEGY_NAMES:
        return STRATEGY_NAMES[name.lower()]
    stored = (
        sorted(p.stem for p in strategies_dir.glob("*.y*ml")) if strategies_dir.is_dir() else []
    )
    choices = ", ".join([*submit.STRATEGY_ALIASES, *BUILTINS, *STRATEGY_NAMES, *stored])
    raise StrategyError(
        f"unknown strategy '{name[:64]}'",
        fix=f"give one of: {choices} (a stored strategy is named without its .yaml)",
        field="strategy_name",
    )


def check_strategy(
    strategy: str, name: str, params: dict[str, Any], defaults: DefaultsOverride
) -> None:
    """Build the strategy once with the ``defaults`` the spec records (unknown parameter
    names, bounds, cross rules, a stored file that does not parse), errors naming the
    request's field, never the file's server path."""
    try:
        get_strategy(strategy, params, defaults=defaults)
    except ParameterError as exc:
        raise _named(exc, strategy, name, "parameters") from None
    except TradesweepError as exc:
        raise _named(exc, strategy, name, "strategy_name") from None


def _named(exc: TradesweepError, path: str, name: str, field: str) -> TradesweepError:
    exc.message = _unpathed(exc.message, path, name)
    exc.fix = _unpathed(exc.fix, path, name)
    details = {k: _unpathed(v, path, name) for k, v in exc.details.items() if k != "file"}
    exc.details = {**details, "field": field}
    return exc


def _unpathed(value: Any, path: str, name: str) -> Any:
    return value.replace(path, f"stored strategy '{name}'") if isinstance(value, str) else value


# ---- specs ---------------------------------------------------------------------------------


def run_spec(
    request: BacktestRunRequest,
    strategies_dir: Path,
    registry: DatasetRegistry,
    *,
    defaults: Defaults = None,
) -> BacktestSpec:
    """The backtest spec of a request: the strategy resolved, its parameters checked, the
    window checked against the dataset (a finer timeframe than the data, or dates outside
    it, are refused here rather than failing in the worker)."""
    strategy = resolve_strategy(request.strategy_name, strategies_dir)
    checked_dataset(request, registry)
    spec = BacktestSpec.from_dict(
        {
            "data": request.symbol,
            "strategy": strategy,
            "params": dict(request.parameters),
            "settings": {"cash": request.initial_capital},
            "timeframe": request.timeframe,
            "start": spec_bound(request.start_date),
            "end": spec_bound(request.end_date),
        }
    ).with_defaults(resolve_defaults(defaults))
    check_strategy(
        spec.strategy, request.strategy_name, dict(spec.params), spec.defaults_override()
    )
    return spec


def optimize_spec(
    request: OptimizeRequest,
    strategies_dir: Path,
    registry: DatasetRegistry,
    *,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> SweepSpec:
    """The sweep spec of an optimize request, planned (every input checked, at least one valid
    combination) before anything is stored."""
    checked_dataset(request, registry)
    spec = _sweep_spec(request, strategies_dir, request.window, max_combinations, defaults)
    _plan(spec, request)
    return spec


def walkforward_spec(
    request: WalkForwardRunRequest,
    strategies_dir: Path,
    registry: DatasetRegistry,
    *,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> WalkForwardSpec:
    """The walk-forward spec of a request: the date range split into
    ``round(months / window_size_months)`` windows of equal bar counts (the bars estimated from
    the dataset's length, after ``timeframe``); each window trains the next one's test
    (rolling, not anchored)."""
    info, bar = checked_dataset(request, registry)
    sweep = _sweep_spec(request, strategies_dir, request.window, max_combinations, defaults)
    start, end = request.window
    lo = max(_instant(start, end=False), info.first) if start is not None else info.first
    hi = min(_instant(end, end=True), info.last) if end is not None else info.last
    span = max(info.last - info.first, pd.Timedelta(1))
    available = int(info.rows * (max(hi - lo, pd.Timedelta(0)) / span))  # a float: no ns overflow
    if bar is not None and info.interval:
        available = int(available * min(1.0, pd.Timedelta(info.interval) / bar))
    months = (hi - lo) / pd.Timedelta(days=DAYS_PER_MONTH)
    windows = round(months / request.window_size_months)
    if windows < 2 or available < 4:
        raise ParameterError(
            f"window_size_months {request.window_size_months} needs two windows (about "
            f"{2 * request.window_size_months} months) but the dates given hold about "
            f"{months:.1f} months of {request.symbol}",
            fix="give a smaller window_size_months or a longer date range",
            field="window_size_months",
        )
    bars = available // windows
    spec = WalkForwardSpec.from_dict(
        {**sweep.to_dict(), "top": 1, "train_bars": bars, "test_bars": bars, "step_bars": bars}
    )
    _plan(spec.sweep, request)
    return spec


def _sweep_spec(
    request: _SweepingRequest,
    strategies_dir: Path,
    window: tuple[date | None, date | None],
    max_combinations: int | None,
    defaults: Defaults,
) -> SweepSpec:
    strategy = resolve_strategy(request.strategy_name, strategies_dir)
    override = resolve_defaults(defaults)
    ranges: dict[str, Any] = dict(request.parameters)
    for name, tried in request.optimize_params.items():
        key = SETTING_AXES.get(name, name)
        if key in ranges:
            raise ParameterError(
                f"'{name}' is both in optimize_params and in parameters",
                fix="give it once",
                field="optimize_params",
                path=f"optimize_params.{name}",
            )
        ranges[key] = {"values": list(tried)}
    values: dict[str, Any] = {
        "data": request.symbol,
        "strategy": strategy,
        "ranges": ranges,
        "objective": OBJECTIVE_NAMES.get(request.objective, request.objective),
        "min_trades": request.min_trades,
        "settings": {"cash": request.initial_capital},
        "timeframe": request.timeframe,
        "start": spec_bound(window[0]),
        "end": spec_bound(window[1]),
    }
    if max_combinations is not None:
        values["max_combinations"] = max_combinations
    return SweepSpec.from_dict(values).with_defaults(override)


def _plan(spec: SweepSpec, request: _SweepingRequest) -> None:
    """Plan the sweep (this builds the strategy once); refuse a grid with no valid
    combination, and name the request's field: ``optimize_params.NAME`` when a name or a value
    is refused (a strategy parameter's or an engine setting's: both are sweep axes),
    ``strategy_name`` when the strategy itself is (a stored file that does not parse)."""
    try:
        space = plan_sweep(spec).space
    except TradesweepError as exc:
        name = str(exc.details.get("parameter") or "")
        sent = next((n for n in request.optimize_params if SETTING_AXES.get(n, n) == name), name)
        if sent in request.optimize_params:
            exc.details.update(field="optimize_params", path=f"optimize_params.{sent}")
        elif sent in request.parameters:
            exc.details.update(field="parameters", path=f"parameters.{sent}")
        elif isinstance(exc, StrategyError):
            exc.details["field"] = "strategy_name"
        else:
            exc.details.setdefault("field", "optimize_params")
        exc.details.pop("parameter", None)
        raise _named(exc, spec.strategy, request.strategy_name, exc.details["field"]) from None
    if space.valid_count == 0:
        raise ParameterError(
            f"no valid combination among the {space.grid_size:,} of optimize_params: every one "
            f"breaks a rule of strategy '{request.strategy_name}'",
            fix="widen the values, e.g. keep every fast period below the slow ones",
            field="optimize_params",
        )


def checked_dataset(
    request: _OrchestratorRequest, registry: DatasetRegistry
) -> tuple[DatasetInfo, pd.Timedelta | None]:
    """The request's dataset and the span of its ``timeframe`` (None: the data's own bars),
    checked: the timeframe is not finer than the data's bars and the dates overlap the data."""
    info = registry.info(request.symbol)
    bar = rule_span(parse_rule(request.timeframe)) if request.timeframe else None
    if bar is not None and info.interval and bar < pd.Timedelta(info.interval):
        raise DataError(
            f"timeframe '{request.timeframe}' is finer than the {info.interval} bars of "
            f"{request.symbol}",
            fix=f"give a timeframe of at least {info.interval}, or leave it out",
            field="timeframe",
        )
    first, last = info.first, info.last
    shown = f"{first.date()}..{last.date()}"
    start, end = request.window
    start_field, end_field = _window_fields(request)
    if start is not None and _instant(start, end=False) > last:
        raise DataError(
            f"{start_field} {start.isoformat()} is after the last bar of {request.symbol} "
            f"({last.date()})",
            fix=f"choose dates within {shown}",
            field=start_field,
        )
    if end is not None and _instant(end, end=True) < first:
        raise DataError(
            f"{end_field} {end.isoformat()} is before the first bar of {request.symbol} "
            f"({first.date()})",
            fix=f"choose dates within {shown}",
            field=end_field,
        )
    return info, bar


def _window_fields(request: _OrchestratorRequest) -> tuple[str, str]:
    if "date_range" in type(request).model_fields:
        return "date_range", "date_range"
    return "start_date", "end_date"


# ---- jobs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    job: Job
    created: bool


def submit_job(
    session: Session,
    tenant_id: int,
    request: _OrchestratorRequest,
    spec: BacktestSpec | SweepSpec | WalkForwardSpec,
    *,
    idempotency_key: str | None = None,
) -> Submitted:
    """Queue the job of an orchestrator request, its type from the spec's (the request kept as
    sent, for the answers)."""
    job, created = JobRepository(session).create(
        tenant_id,
        JobType(spec.kind),
        {
            "spec": spec.to_dict(),
            "request": request.model_dump(mode="json", exclude_none=True),
            "client": COMPAT,
        },
        ticker=request.symbol,
        webhook_url=request.webhook_url or submit.tenant_webhook_url(session, tenant_id),
        idempotency_key=idempotency_key,
    )
    return Submitted(job, created)


def find_job(session: Session, tenant_id: int, job_id: str) -> Job:
    """A backtest job of the tenant, or one these endpoints made (optimize, walk-forward);
    :class:`NotFound` otherwise (a sweep made elsewhere is not a backtest)."""
    job = JobRepository(session).get(tenant_id, job_id)
    ours = job is not None and (
        job.type is JobType.BACKTEST or (job.parameters or {}).get("client") == COMPAT
    )
    if job is None or not ours:
        raise NotFound(
            f"no backtest {job_id!r}",
            fix="use the id answered by POST /api/backtest/run (or /optimize, /walk-forward)",
            field="job_id",
        )
    return job


def backtest_run(
    session: Session, tenant_id: int, job: Job
) -> tuple[BacktestRun, list[BacktestTrade]] | None:
    """A completed backtest job's stored run and its trades; None before it completes."""
    run_id = (job.result or {}).get("backtest_run_id")
    repo = BacktestRepository(session)
    stored = repo.get(tenant_id, run_id) if run_id else None
    if stored is None:
        return None
    return stored, repo.trades(stored.id)


def optimize_results(session: Session, tenant_id: int, job: Job) -> dict[str, Any] | None:
    """A completed optimize job's ``best_params``, ``best_result`` and ``all_results`` (every
    evaluated combination, the ranked ones first, in rank order, at most
    :data:`MAX_ALL_RESULTS`); None before it completes."""
    run_id = (job.result or {}).get("sweep_run_id")
    repo = SweepResultRepository(session)
    run = repo.get_run(tenant_id, run_id) if run_id else None
    if run is None:
        return None
    cash = float(((job.parameters or {}).get("spec") or {}).get("settings", {}).get("cash", 0))
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < MAX_ALL_RESULTS:
        page = repo.page(run.id, limit=min(1000, MAX_ALL_RESULTS - len(rows)), cursor=cursor)
        rows.extend(_row(row, cash) for row in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    best = rows[0] if rows and rows[0]["rank"] is not None else None
    return {
        "best_params": best["params"] if best else None,
        "best_result": best,
        "all_results": rows,
        "all_results_truncated": cursor is not None,
        "total_combinations": repo.count(run.id),
        "sweep_run_id": run.id,
        "warnings": (job.result or {}).get("warnings") or [],
    }


def _row(row: SweepResultRow, cash: float) -> dict[str, Any]:
    metrics = {key: getattr(row, key, None) for key in KEYS}
    final = metrics.get("final_equity")
    return {
        "params": row.params,
        "rank": row.rank,
        "below_min_trades": row.below_min_trades,
        "sharpe_ratio": metrics.get("sharpe_ratio"),
        "total_pnl": None if final is None else final - cash,
        "win_rate": metrics.get("win_rate_pct"),
        "total_trades": metrics.get("total_trades"),
        "metrics": to_json_safe(metrics),
    }
