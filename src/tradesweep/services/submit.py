"""Submitting work: a request is validated, becomes a frozen spec, and is stored as a queued job.

The API (and any CLI that queues work) goes through these functions::

    request = parse_request(SweepRequest, body, tickers=registry.tickers())
    with sessions.begin() as session:
        submission = submit_sweep(session, tenant.id, request, idempotency_key="abc")

Validation happens twice, in order: the request model checks each field by itself (types,
bounds, known ticker, known strategy), then the spec is planned against the strategy's schema
(:func:`~tradesweep.sweep.runner.plan_sweep`: ranges inside the parameter bounds, at least one
valid combination) before anything is stored. No data is loaded here: that is the worker's job.

What a client may name is narrower than what the CLI accepts: a registered ticker (never a
file path), a built-in strategy (never a plugin or a declarative file) and a built-in preset
(never a preset file), because a request must not make the server read or run files.

The strategy-defaults override that applies (``defaults``; None: the one
``TRADESWEEP_STRATEGY_DEFAULTS`` names) is resolved here and recorded in the spec
(:mod:`tradesweep.specs.defaults`), so the worker runs what was checked and the spec id
changes with it.

A job stores ``parameters = {"spec": spec.to_dict(), "request": <the validated request>}``;
the worker rebuilds the spec with ``SweepSpec.from_dict(parameters["spec"])`` (or
``BacktestSpec`` / ``WalkForwardSpec``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradesweep.data.registry import TICKER_MAX_LEN as TICKER_MAX_LEN
from tradesweep.data.registry import TICKER_MIN_LEN as TICKER_MIN_LEN
from tradesweep.data.registry import TICKER_RULE, is_ticker
from tradesweep.errors import ParameterError, SettingsError, TradesweepError
from tradesweep.indicators.convention import DEFAULT_CONVENTION, IndicatorConvention
from tradesweep.jsontext import TooDeep, loads
from tradesweep.metrics.periods import MAX_PERIODS_PER_YEAR
from tradesweep.notify.ssrf import UnsafeWebhookURL, allow_private_from_env, validate_webhook_url
from tradesweep.specs import (
    DEFAULT_MIN_TRADES,
    MAX_WINDOW_BARS,
    BacktestSpec,
    SweepSpec,
    WalkForwardSpec,
)
from tradesweep.store import Job, JobRepository, JobStatus, JobType, Tenant
from tradesweep.strategies import get_strategy
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.defaults import resolve_defaults
from tradesweep.strategies.registry import Defaults
from tradesweep.sweep.preset import Preset, builtin_presets, load_preset
from tradesweep.sweep.ranking import OBJECTIVES
from tradesweep.sweep.runner import plan_sweep
from tradesweep.sweep.walkforward import check_fits, untradable_windows

STRATEGY_ALIASES: dict[str, str] = {
    "SMA": "sma_crossover",
    "EMA": "ema_crossover",
    "MACD": "macd",
}
"""Short strategy names a client may send, and the built-in each one means."""
PERIOD_MIN, PERIOD_MAX = 1, 500
"""Bounds of every value of ``fast_range`` and ``slow_range``."""
MAX_MIN_TRADES = 1000
"""The largest ``min_trades`` a request may ask for."""
STARTUP_SECONDS = 1.0
NO_WORKER_WARNING = (
    "no worker is consuming the queue; the job waits until one starts (`tradesweep worker`, "
    "or `tradesweep serve` without --workers 0)"
)
COMBINATIONS_PER_SECOND = 2_000.0
"""Rough throughput of one worker on a few thousand daily bars, for the duration estimate."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def strategy_name(strategy_type: str) -> str:
    """The built-in a ``strategy_type`` names (``SMA`` -> ``sma_crossover``)."""
    return STRATEGY_ALIASES.get(strategy_type.upper(), strategy_type)


def strategy_type_of(strategy: str) -> str:
    """The short name of a built-in when it has one (``sma_crossover`` -> ``SMA``)."""
    for alias, name in STRATEGY_ALIASES.items():
        if name == strategy:
            return alias
    return strategy


# ---- field validators --------------------------------------------------------------------


def _pair(value: Any) -> Any:
    """``[10, 20]``, ``["10", "20"]`` (a form field sent twice), ``"[10, 20]"``, ``"10,20"``
    or ``"10:20"`` -> a two-item list; anything else is left for the type check to refuse."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return _decoded(text, value)
        parts = [p.strip() for p in re.split(r"[,:]", text) if p.strip()]
        return parts if len(parts) > 1 else value
    return value


def _not_bool(value: Any) -> Any:
    """JSON ``true`` is not the number 1: refused wherever a number goes (pydantic's lax mode
    would take it)."""
    if isinstance(value, bool):
        raise PydanticCustomError(
            "number_not_bool", "must be a number, got {value}", {"value": str(value).lower()}
        )
    if isinstance(value, list | tuple) and any(isinstance(v, bool) for v in value):
        shown = ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in value)
        raise PydanticCustomError(
            "number_not_bool", "must be numbers, got [{value}]", {"value": shown}
        )
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
"""A whole number, never a boolean."""
Real = Annotated[float, BeforeValidator(_not_bool)]
"""A number, never a boolean."""


def _period_bounds(value: tuple[int, int]) -> tuple[int, int]:
    low, high = value
    if not (PERIOD_MIN <= low <= PERIOD_MAX and PERIOD_MIN <= high <= PERIOD_MAX):
        raise PydanticCustomError(
            "range_out_of_bounds",
            "both ends must be whole numbers within {lo}..{hi}, got [{low}, {high}]",
            {"lo": PERIOD_MIN, "hi": PERIOD_MAX, "low": low, "high": high},
        )
    if low > high:
        raise PydanticCustomError(
            "range_reversed",
            "the first number is the minimum and must not exceed the second, got "
            "[{low}, {high}] (send [{high}, {low}])",
            {"low": low, "high": high},
        )
    return value


PeriodRange = Annotated[
    tuple[int, int],
    BeforeValidator(_pair),
    BeforeValidator(_not_bool),
    AfterValidator(_period_bounds),
    Field(description="[min, max], whole numbers within 1..500, e.g. [10, 20]"),
]


def _json_text(value: Any) -> Any:
    """A form field carrying JSON (``ranges={"signal": [5, 12]}``) -> the decoded value."""
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        return _decoded(value, value)
    return value


def _decoded(text: str, otherwise: Any) -> Any:
    """``text`` decoded as JSON, or ``otherwise`` when it is not JSON (the type check then
    refuses it); JSON nested too deep is refused here, naming the limit."""
    try:
        return loads(text)
    except TooDeep as exc:
        raise PydanticCustomError(
            "json_too_deep", "{problem} (send [min, max] or a flat object)", {"problem": str(exc)}
        ) from None
    except ValueError:
        return otherwise


def _check_ticker(value: str, info: ValidationInfo) -> str:
    ticker = value.strip().upper()
    if not is_ticker(ticker):  # the registry's rule: whatever `data import` stored is valid
        raise PydanticCustomError(
            "ticker_name",
            "must be {rule}, got '{ticker}'",
            {"rule": TICKER_RULE, "ticker": value[:50]},
        )
    tickers = (info.context or {}).get("tickers")
    if tickers is not None and ticker not in tickers:
        known = ", ".join(sorted(tickers))
        raise PydanticCustomError(
            "unknown_ticker",
            "unknown ticker '{ticker}' (registered: {known}; upload it first with "
            "POST /api/v1/datasets)",
            {"ticker": ticker, "known": known},
        )
    return ticker


def _check_strategy(value: str) -> str:
    """The strategy type as sent (``SMA`` stays ``SMA``); :func:`strategy_name` resolves it."""
    name = strategy_name(value)
    if name not in BUILTINS:
        choices = ", ".join([*STRATEGY_ALIASES, *(n for n in BUILTINS)])
        raise PydanticCustomError(
            "unknown_strategy",
            "unknown strategy '{value}' (give one of: {choices})",
            {"value": value, "choices": choices},
        )
    return value.upper() if value.upper() in STRATEGY_ALIASES else value


def _check_preset(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    known = builtin_presets()
    if value not in known:
        raise PydanticCustomError(
            "unknown_preset",
            "'{value}' is not a built-in preset (give one of: {known}; preset files are not "
            "read over the API)",
            {"value": value, "known": ", ".join(known)},
        )
    return value


def _check_webhook(value: str | None) -> str | None:
    """The SSRF guard's check of the URL's form, without a DNS lookup (every delivery attempt
    checks the resolved addresses again): http(s), a host, no credentials, no loopback,
    private or metadata IP literal unless ``$TRADESWEEP_WEBHOOK_ALLOW_PRIVATE`` allows it."""
    if value is None or value == "":
        return None
    if not re.match(r"^https?://[^\s/]+", value) or len(value) > 2048:
        raise PydanticCustomError(
            "invalid_webhook_url",
            "must be an http:// or https:// URL of at most 2048 characters, got '{value}'",
            {"value": value[:100]},
        )
    try:
        validate_webhook_url(value, allow_private=allow_private_from_env())
    except UnsafeWebhookURL as exc:
        raise PydanticCustomError("unsafe_webhook_url", "{reason}", {"reason": str(exc)}) from None
    return value


# ---- request models ----------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    ticker: str = Field(
        description=f"A registered ticker ({TICKER_RULE}; case-insensitive), e.g. GOOGL"
    )
    webhook_url: str | None = Field(None, description="Called when the job finishes")
    indicator_convention: IndicatorConvention | None = Field(
        None,
        description="pandas (default) or talib: how EMA, MACD, ATR and Bollinger are computed",
    )

    check_ticker = field_validator("ticker")(_check_ticker)
    check_webhook = field_validator("webhook_url")(_check_webhook)


class SweepRequest(_Request):
    """A sweep as clients send it (JSON, or form fields of the same names)."""

    strategy_type: str = Field(
        "SMA",
        validate_default=True,
        description="SMA, EMA or MACD, or any built-in strategy by name",
    )
    fast_range: PeriodRange | None = Field(None, description="[min, max] of the fast period")
    slow_range: PeriodRange | None = Field(None, description="[min, max] of the slow period")
    step: Int = Field(1, ge=1, le=50, description="step of fast_range and slow_range, 1..50")
    min_trades: Int | None = Field(
        None,
        ge=0,
        le=MAX_MIN_TRADES,
        description=f"0..{MAX_MIN_TRADES}: combinations with fewer closed trades are kept but "
        f"not ranked (default {DEFAULT_MIN_TRADES}, or the preset's: standard sets 20), as "
        "`tradesweep sweep --min-trades`",
    )
    ranges: dict[str, Any] | None = Field(
        None,
        description='Other parameters to sweep, e.g. {"signal": [5, 12]} or '
        '{"period": {"min": 10, "max": 30, "step": 2}}, and engine settings to sweep: '
        "stop_loss, stop_loss_atr, take_profit, take_profit_atr, trailing_stop, "
        'trailing_stop_atr, size, max_drawdown, e.g. {"stop_loss": [0.01, 0.02]}',
    )
    config_path: str | None = Field(
        None, description="Settings preset: minimum (no costs) or standard (realistic costs)"
    )
    objective: str = Field(
        "score",
        description="What ranks the results: " + ", ".join(OBJECTIVES) + " (default score)",
    )
    settings: dict[str, Any] | None = Field(
        None,
        description='Engine settings over the preset, e.g. {"fees": 0.001, "slippage": '
        '0.0005, "direction": "long_short", "fill": "close", "stop_loss": 0.05}',
    )

    check_strategy = field_validator("strategy_type")(_check_strategy)
    check_preset = field_validator("config_path")(_check_preset)
    decode_ranges = field_validator("ranges", "settings", mode="before")(_json_text)

    @field_validator("objective")
    @classmethod
    def check_objective(cls, value: str) -> str:
        if value not in OBJECTIVES:
            raise PydanticCustomError(
                "unknown_objective",
                "unknown objective {value} (give one of: {known})",
                {"value": repr(value), "known": ", ".join(OBJECTIVES)},
            )
        return value

    @field_validator("slow_range")
    @classmethod
    def check_slow_above_fast(cls, slow: tuple[int, int] | None, info: ValidationInfo) -> Any:
        fast = info.data.get("fast_range")
        if slow is None or fast is None:
            return slow
        if not (fast[0] < slow[0] and fast[1] < slow[1]):
            raise PydanticCustomError(
                "fast_not_below_slow",
                "fast periods must stay below slow ones: fast min < slow min and fast max < "
                "slow max, got fast_range [{f0}, {f1}] and slow_range [{s0}, {s1}] (e.g. "
                "fast_range [10, 20] with slow_range [30, 50])",
                {"f0": fast[0], "f1": fast[1], "s0": slow[0], "s1": slow[1]},
            )
        return slow


class WalkForwardRequest(SweepRequest):
    """A sweep request plus the walk-forward windows, in bars."""

    train_bars: Int = Field(
        ge=2, le=MAX_WINDOW_BARS, description="Bars in each training window, e.g. 500"
    )
    test_bars: Int = Field(
        ge=1, le=MAX_WINDOW_BARS, description="Bars in each test window, e.g. 100"
    )
    step_bars: Int | None = Field(
        None, ge=1, le=MAX_WINDOW_BARS, description="Bars between test windows"
    )
    anchored: bool = Field(False, description="Training windows all start at the first bar")


class BacktestRequest(_Request):
    """One backtest: a built-in strategy with fixed parameters."""

    strategy_type: str = Field(
        "SMA", validate_default=True, description="SMA, EMA or MACD, or any built-in by name"
    )
    parameters: dict[str, Int | Real] = Field(
        default_factory=dict, description='Strategy parameters, e.g. {"fast": 10, "slow": 30}'
    )
    fast_period: Int | None = Field(None, ge=1, description="Shorthand for parameters.fast")
    slow_period: Int | None = Field(None, ge=1, description="Shorthand for parameters.slow")
    settings: dict[str, Any] | None = Field(
        None, description='Engine settings, e.g. {"fees": 0.001, "slippage": 0.0005}'
    )
    config_path: str | None = Field(None, description="Settings preset: minimum or standard")
    risk_free_rate: Real | None = Field(None, ge=-0.99, le=1.0)
    periods_per_year: Real | None = Field(
        None,
        gt=0,
        le=MAX_PERIODS_PER_YEAR,
        description=f"Bars per year, at most {MAX_PERIODS_PER_YEAR} (one a second); "
        "inferred from the timestamps when left out",
    )

    check_strategy = field_validator("strategy_type")(_check_strategy)
    check_preset = field_validator("config_path")(_check_preset)
    decode_json = field_validator("parameters", "settings", mode="before")(_json_text)


def parse_request(
    model: type[ModelT], data: Mapping[str, Any], *, tickers: Collection[str]
) -> ModelT:
    """Validate ``data`` (JSON, or form fields with lists for repeated keys) into ``model``;
    the ticker must be one of ``tickers``. Raises :class:`pydantic.ValidationError`."""
    return model.model_validate(dict(data), context={"tickers": set(tickers)})


# ---- specs -------------------------------------------------------------------------------

_SPEC_TO_REQUEST = {
    "data": "ticker",
    "strategy": "strategy_type",
    "preset": "config_path",
    "params": "parameters",
}
"""Spec fields whose request field has another name."""
_TOP_LEVEL_SETTINGS = ("periods_per_year", "risk_free_rate")


@contextmanager
def request_fields(request: _Request) -> Iterator[None]:
    """Errors raised while ``request`` becomes a spec name the request's field, not the spec's
    or the engine's: ``details.field`` is the top-level field (``settings``, ``fast_range``,
    ``ranges``, ``parameters``), ``details.path`` the place in it (``settings.fees``,
    ``ranges.signal.max``), and the message starts with that path."""
    try:
        yield
    except TradesweepError as exc:
        _name_request_field(exc, request)
        raise


def _name_request_field(exc: TradesweepError, request: _Request) -> None:
    details = exc.details
    setting = details.pop("setting", None)
    parameter = details.pop("parameter", None)
    key = details.pop("key", None)
    field = details.get("field")
    if setting in _TOP_LEVEL_SETTINGS:
        field = path = setting
    elif setting is not None:
        field, path = "settings", f"settings.{setting}"
    elif parameter is not None:
        field, path = _parameter_field(request, str(parameter), key)
    elif field is not None:
        field = path = _SPEC_TO_REQUEST.get(str(field), str(field))
    else:
        backtest = isinstance(request, BacktestRequest)
        field = path = (
            "settings" if isinstance(exc, SettingsError) else "parameters" if backtest else "ranges"
        )
    details["field"] = field
    details["path"] = path
    if not exc.message.startswith(f"{path}:"):
        exc.message = f"{path}: {exc.message}"
        exc.args = (str(exc),)


def _parameter_field(request: _Request, name: str, key: str | None) -> tuple[str, str]:
    """The request field a strategy parameter came from, and the path in it."""
    if isinstance(request, BacktestRequest):
        shorthand = f"{name}_period"
        if getattr(request, shorthand, None) is not None:
            return shorthand, shorthand
        return "parameters", f"parameters.{name}"
    own = f"{name}_range"
    if getattr(request, own, None) is not None:
        return own, f"{own}.{key}" if key else own
    path = f"ranges.{name}" + (f".{key}" if key else "")
    return "ranges", path


def sweep_spec_dict(
    request: SweepRequest, *, max_combinations: int | None = None
) -> dict[str, Any]:
    """The :meth:`SweepSpec.from_dict` input for a request (preset not yet applied);
    ``max_combinations`` caps the grid (default: the spec's own default)."""
    ranges: dict[str, Any] = {}
    strategy = strategy_name(request.strategy_type)
    if strategy in STRATEGY_ALIASES.values():
        for name in ("fast_range", "slow_range"):
            if getattr(request, name) is None:
                raise ParameterError(
                    f"{name} is required for strategy {strategy_type_of(strategy)}",
                    fix=f"send {name} as [min, max], e.g. "
                    + ("[10, 20]" if name == "fast_range" else "[30, 50]"),
                    field=name,
                )
    for name, given in (("fast", request.fast_range), ("slow", request.slow_range)):
        if given is not None:
            ranges[name] = {"min": given[0], "max": given[1], "step": request.step}
    for name, spec in (request.ranges or {}).items():
        if name in ranges:
            raise ParameterError(
                f"parameter '{name}' is given twice, in {name}_range and in ranges",
                fix=f"give it once (keep {name}_range)",
                field="ranges",
            )
        ranges[name] = spec
    if not ranges:
        raise ParameterError(
            f"nothing to sweep: strategy '{strategy}' needs ranges",
            fix='send ranges, e.g. {"period": [10, 30]}',
            field="ranges",
        )
    values: dict[str, Any] = {
        "data": request.ticker,
        "strategy": strategy,
        "ranges": ranges,
        "objective": request.objective,
        "preset": request.config_path,
        "settings": dict(request.settings or {}),
        "indicator_convention": request.indicator_convention or DEFAULT_CONVENTION,
    }
    if request.min_trades is not None:  # else the preset's, else the spec's default
        values["min_trades"] = request.min_trades
    if max_combinations is not None:
        values["max_combinations"] = max_combinations
    return values


def sweep_spec(
    request: SweepRequest,
    *,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> SweepSpec:
    """The spec :meth:`SweepSpec.from_dict` builds for the request, the built-in preset taken
    from a cache instead of parsed from YAML on every request (the same values: see
    ``tests/services/test_submit.py``), recording the strategy-defaults override."""
    values = sweep_spec_dict(request, max_combinations=max_combinations)
    values["defaults"] = resolve_defaults(defaults).entries_for(values["strategy"])
    name = values.pop("preset")
    if name is None:
        return SweepSpec.from_dict(values)
    preset = _builtin_preset(name)
    values["settings"] = {**preset.settings, **values["settings"]}
    for key, value in preset.spec_fields.items():
        values.setdefault(key, value)
    return SweepSpec.from_dict(values).replace(preset=name)


@functools.lru_cache(maxsize=8)
def _builtin_preset(name: str) -> Preset:
    """A packaged preset (read-only data shipped with the code), parsed once per process."""
    return load_preset(name)


def walkforward_spec(
    request: WalkForwardRequest,
    *,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> WalkForwardSpec:
    return WalkForwardSpec.from_dict(
        {
            **sweep_spec_dict(request, max_combinations=max_combinations),
            "top": 1,
            "train_bars": request.train_bars,
            "test_bars": request.test_bars,
            "step_bars": request.step_bars,
            "anchored": request.anchored,
        }
    ).with_defaults(resolve_defaults(defaults))


def backtest_spec(request: BacktestRequest, *, defaults: Defaults = None) -> BacktestSpec:
    """The spec of the request, recording ``defaults`` (the built-ins' default overrides of
    the service; None: none), its strategy built once: unknown names, bounds and cross rules
    fail here."""
    params = dict(request.parameters)
    _refuse_nested_shorthands(params, strategy_name(request.strategy_type))
    for name, value in (("fast", request.fast_period), ("slow", request.slow_period)):
        if value is not None:
            params[name] = value
    settings = dict(request.settings or {})
    if request.config_path is not None:
        settings = {**load_preset(request.config_path).settings, **settings}
    values: dict[str, Any] = {
        "data": request.ticker,
        "strategy": strategy_name(request.strategy_type),
        "params": params,
        "settings": settings,
        "periods_per_year": request.periods_per_year,
        "indicator_convention": request.indicator_convention or DEFAULT_CONVENTION,
    }
    if request.risk_free_rate is not None:
        values["risk_free_rate"] = request.risk_free_rate
    spec = BacktestSpec.from_dict(values).with_defaults(resolve_defaults(defaults))
    get_strategy(spec.strategy, spec.params, defaults=spec.defaults_override())
    return spec


def _refuse_nested_shorthands(params: Mapping[str, Any], strategy: str) -> None:
    """``fast_period`` / ``slow_period`` are top-level shorthands of a backtest request, not
    names inside ``parameters``: say so, with both ways to write it."""
    known = {p.name for p in BUILTINS[strategy].schema}
    for name in ("fast", "slow"):
        shorthand = f"{name}_period"
        if shorthand in params and name in known:
            value = params[shorthand]
            raise ParameterError(
                f"unknown parameter '{shorthand}' inside parameters: {shorthand} is a "
                f"top-level shorthand, the parameter of strategy '{strategy}' is '{name}'",
                fix=f'write "parameters": {{"{name}": {value}}}, or send "{shorthand}": '
                f"{value} at the top level, next to parameters",
                strategy=strategy,
                parameter=shorthand,
            )


# ---- submission --------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A stored job and what the client is told about it. ``created`` is False when an
    earlier request with the same idempotency key made the job."""

    job: Job
    created: bool
    request: dict[str, Any]
    grid_combinations: int | None = None
    combinations: int | None = None
    estimated_duration_seconds: float | None = STARTUP_SECONDS
    """None while no worker is alive: the job waits for one, however small it is."""
    warnings: tuple[str, ...] = ()
    """What the client should know before the job runs (windows too short to trade, no
    live worker: :data:`NO_WORKER_WARNING`)."""


@dataclass(frozen=True)
class Counts:
    """A sweep's grid size and how many of its combinations are valid."""

    grid: int
    valid: int


def plan_counts(spec: SweepSpec) -> Counts:
    """Grid and valid combination counts; refuses a sweep with no valid combination."""
    space = plan_sweep(spec).space
    valid = space.valid_count
    if valid == 0:
        raise ParameterError(
            f"no valid combination among the {space.grid_size:,} of the grid: every one breaks "
            f"a rule of strategy '{spec.strategy}'",
            fix="widen the ranges, e.g. keep every fast period below the slow ones",
            field="ranges",
        )
    return Counts(space.grid_size, valid)


def estimate_seconds(combinations: int, windows: int = 1) -> float:
    """A rough duration: start-up plus combinations at a typical single-worker rate."""
    return round(STARTUP_SECONDS + combinations * windows / COMBINATIONS_PER_SECOND, 1)


def _dump(request: BaseModel) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_none=True)


def submit_sweep(
    session: Session,
    tenant_id: int,
    request: SweepRequest,
    *,
    idempotency_key: str | None = None,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Plan the sweep (raising on any invalid input, a grid above ``max_combinations``
    included) and queue it as a ``sweep`` job. ``defaults``: the built-ins' default
    overrides the workers apply."""
    with request_fields(request):
        spec = sweep_spec(request, max_combinations=max_combinations, defaults=defaults)
        counts = plan_counts(spec)
    return _store(
        session,
        tenant_id,
        JobType.SWEEP,
        spec.to_dict(),
        request,
        idempotency_key,
        counts,
        estimate_seconds(counts.valid),
    )


def submit_walkforward(
    session: Session,
    tenant_id: int,
    request: WalkForwardRequest,
    *,
    idempotency_key: str | None = None,
    max_combinations: int | None = None,
    bars: int | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Plan the walk-forward's sweep and queue it as a ``walkforward`` job; with ``bars`` (the
    dataset's length), windows longer than the data are refused here, not in the worker."""
    with request_fields(request):
        spec = walkforward_spec(request, max_combinations=max_combinations, defaults=defaults)
        if bars is not None:
            check_fits(spec, bars)
        counts = plan_counts(spec.sweep)
    return _store(
        session,
        tenant_id,
        JobType.WALKFORWARD,
        spec.to_dict(),
        request,
        idempotency_key,
        counts,
        estimate_seconds(counts.valid, windows=5),
        warnings=walkforward_warnings(spec),
    )


def walkforward_warnings(spec: WalkForwardSpec) -> tuple[str, ...]:
    """What the submission's answer warns about: windows too short to trade ``min_trades``
    times (:func:`~tradesweep.sweep.walkforward.untradable_windows`)."""
    why = untradable_windows(plan_sweep(spec.sweep), spec)
    return () if why is None else (why,)


def submit_backtest(
    session: Session,
    tenant_id: int,
    request: BacktestRequest,
    *,
    idempotency_key: str | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Check the strategy parameters and settings and queue a ``backtest`` job."""
    with request_fields(request):
        spec = backtest_spec(request, defaults=defaults)
    return _store(
        session, tenant_id, JobType.BACKTEST, spec.to_dict(), request, idempotency_key, None, 1.0
    )


def tenant_webhook_url(session: Session, tenant_id: int) -> str | None:
    """The tenant's default webhook URL (``tradesweep webhooks url``), used for a job
    submitted without one; None when it has none."""
    return session.scalar(select(Tenant.webhook_url).where(Tenant.id == tenant_id))


def _store(
    session: Session,
    tenant_id: int,
    type: JobType,
    spec: dict[str, Any],
    request: _Request,
    idempotency_key: str | None,
    counts: Counts | None,
    estimate: float,
    *,
    warnings: tuple[str, ...] = (),
) -> Submission:
    return queue_job(
        session,
        tenant_id,
        type,
        spec,
        _dump(request),
        ticker=request.ticker,
        webhook_url=request.webhook_url,
        idempotency_key=idempotency_key,
        counts=counts,
        estimate=estimate,
        warnings=warnings,
    )


def queue_job(
    session: Session,
    tenant_id: int,
    type: JobType,
    spec: dict[str, Any],
    request: dict[str, Any],
    *,
    ticker: str,
    webhook_url: str | None,
    idempotency_key: str | None,
    counts: Counts | None,
    estimate: float,
    warnings: tuple[str, ...] = (),
) -> Submission:
    """Store ``{"spec": spec, "request": request}`` as a queued job (the tenant's default
    webhook URL when ``webhook_url`` is None) and say what the client is told about it
    (``warnings``: what it should know before the job runs)."""
    job, created = JobRepository(session).create(
        tenant_id,
        type,
        {"spec": spec, "request": request},
        ticker=ticker,
        webhook_url=webhook_url or tenant_webhook_url(session, tenant_id),
        idempotency_key=idempotency_key,
    )
    if not math.isfinite(estimate):
        estimate = STARTUP_SECONDS
    # With no worker alive the job waits for one: say so rather than promise a duration.
    waits = job.status is JobStatus.QUEUED and JobRepository(session).live_workers() == 0
    return Submission(
        job=job,
        created=created,
        request=request,
        grid_combinations=counts.grid if counts else None,
        combinations=counts.valid if counts else None,
        estimated_duration_seconds=None if waits else estimate,
        warnings=(*warnings, NO_WORKER_WARNING) if waits else warnings,
    )
