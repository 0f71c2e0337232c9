"""Submitting a job as its spec's own JSON: what ``tradesweep sweep --print-spec`` (and
``backtest`` / ``walkforward --print-spec``) prints, posted as is::

    values = json.loads(subprocess.check_output(["tradesweep", "sweep", ..., "--print-spec"]))
    submission = submit_sweep_spec(session, tenant.id, values, tickers=registry.tickers())

A spec sent over the API is attacker-controlled, and a spec can name what the CLI may read
and run: a data file, a strategy file, a plugin, a preset file. So before the spec is built
(:func:`allowed_values`), every such field is held to what a request may name (the rules of
:mod:`tradesweep.services.submit`): ``data`` a dataset registered for the caller's tenant,
``strategy`` a built-in (or its short name, ``SMA``), ``plugins`` empty, ``preset`` a built-in
preset name, no strategy ``defaults`` but the server's (a client's would move parameter
bounds: the server records its own); and the
fields that cost work are bounded (``max_combinations`` by the server's cap, ``top``,
``seed``, ``constraint``; walk-forward windows by the dataset's length). Each refusal names
the spec's field in ``details.field``.

The job stores ``{"spec": spec.to_dict(), "request": spec.to_dict()}``: the request as
validated is the canonical spec.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tradesweep.errors import SettingsError, TradesweepError, reject_unknown_fields
from tradesweep.services.submit import (
    Submission,
    estimate_seconds,
    plan_counts,
    queue_job,
    strategy_name,
    walkforward_warnings,
)
from tradesweep.specs import BacktestSpec, SweepSpec, WalkForwardSpec
from tradesweep.specs.walkforward import WALKFORWARD_KEYS
from tradesweep.store import JobType
from tradesweep.strategies import get_strategy
from tradesweep.strategies.builtins import BUILTINS
from tradesweep.strategies.defaults import resolve_defaults
from tradesweep.strategies.registry import Defaults
from tradesweep.sweep.preset import builtin_presets
from tradesweep.sweep.walkforward import check_fits

S = TypeVar("S", BacktestSpec, SweepSpec, WalkForwardSpec)

SPEC_KEY = "data"
"""A body with this key is a spec; without it, a request of :mod:`.submit`."""
MAX_TOP = 1_000
MAX_SEED = 2**32 - 1
MAX_CONSTRAINT_CHARS = 500
_SHOWN_TICKERS = 20
_SHAPES: tuple[tuple[str, type, str, str], ...] = (
    ("ranges", Mapping, "an object", '{"fast": {"min": 5, "max": 20, "step": 5}}'),
    ("settings", Mapping, "an object", '{"fees": 0.001}'),
    ("params", Mapping, "an object", '{"fast": 10, "slow": 30}'),
    ("explicit_settings", list, "a list", '["fees"]'),
)
"""Fields the CLI may give in other shapes (``ranges`` as ``NAME=SPEC`` texts): the API
takes the JSON form ``--print-spec`` prints."""

SWEEP_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SweepSpec))
WALKFORWARD_FIELDS: tuple[str, ...] = (*SWEEP_FIELDS, *WALKFORWARD_KEYS)
BACKTEST_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(BacktestSpec))


class SpecNotAllowed(TradesweepError):
    """A spec field naming something a request may not: a file, a plugin, another tenant's
    dataset, or a value above the server's bounds."""

    code = "spec_not_allowed"


class UnknownDataset(SpecNotAllowed):
    """``data`` that is not a dataset registered for the caller's tenant (a file path
    included): the code of a request's unknown ticker."""

    code = "unknown_ticker"


class InvalidSpec(TradesweepError):
    """A field the spec does not have."""

    code = "invalid_spec"


def is_spec(body: Mapping[str, Any]) -> bool:
    """Whether ``body`` is a spec (it has :data:`SPEC_KEY`) rather than a request."""
    return SPEC_KEY in body


def allowed_values(
    body: Mapping[str, Any], known: Collection[str], *, what: str, tickers: Collection[str]
) -> dict[str, Any]:
    """``body`` checked against what a request may name (module docstring), with ``data``
    upper-cased and ``strategy`` resolved to the built-in's name; :class:`SpecNotAllowed`
    (or the spec's own error for an unknown field) naming the field otherwise."""
    reject_unknown_fields(body, list(known), what=what, error=InvalidSpec)
    values = dict(body)
    values["data"] = _dataset(values.get("data"), tickers)
    values["strategy"] = _builtin(values.get("strategy"))
    if values.get("plugins") not in (None, [], ()):
        raise SpecNotAllowed(
            "plugins are not loaded over the API",
            fix="leave plugins out (or []) and use a built-in strategy; see GET /api/v1/strategies",
            field="plugins",
        )
    values.pop("plugins", None)
    values.pop("defaults", None)  # the server's own are recorded (_with_server_defaults)
    for name, kind, shape, example in _SHAPES:
        if values.get(name) is not None and not isinstance(values[name], kind):
            raise SpecNotAllowed(
                f"{name} must be {shape}, got {type(values[name]).__name__}",
                fix=f"give e.g. {example}",
                field=name,
            )
    explicit = values.get("explicit_settings")
    if explicit is not None and not all(isinstance(v, str) for v in explicit):
        raise SpecNotAllowed(
            "explicit_settings must be a list of engine setting names",
            fix='give e.g. ["fees"], or leave it out',
            field="explicit_settings",
        )
    preset = values.get("preset")
    if preset is not None and preset not in builtin_presets():
        raise SpecNotAllowed(
            f"preset {str(preset)[:100]!r} is not a built-in preset; preset files are not read "
            "over the API",
            fix=f"give one of: {', '.join(builtin_presets())}, or leave preset out",
            field="preset",
        )
    _at_most(values, "top", MAX_TOP)
    _at_most(values, "seed", MAX_SEED)
    constraint = values.get("constraint")
    if isinstance(constraint, str) and len(constraint) > MAX_CONSTRAINT_CHARS:
        raise SpecNotAllowed(
            f"constraint has {len(constraint):,} characters, more than {MAX_CONSTRAINT_CHARS}",
            fix='give a short rule such as "slow >= 2 * fast"',
            field="constraint",
        )
    return values


def _dataset(value: Any, tickers: Collection[str]) -> str:
    ticker = value.strip().upper() if isinstance(value, str) else None
    if ticker is None or ticker not in tickers:
        shown = sorted(tickers)
        known = ", ".join(shown[:_SHOWN_TICKERS]) + (", ..." if len(shown) > _SHOWN_TICKERS else "")
        raise UnknownDataset(
            f"data {str(value)[:100]!r} is not a dataset registered for your tenant "
            f"(registered: {known}); the API never reads a file path",
            fix="name a registered ticker, or upload the file first with POST /api/v1/datasets",
            field="data",
        )
    return ticker


def _builtin(value: Any) -> str:
    name = strategy_name(value.strip()) if isinstance(value, str) else None
    if name is None or name not in BUILTINS:
        raise SpecNotAllowed(
            f"strategy {str(value)[:100]!r} is not a strategy this service offers; strategy "
            "files and plugins are not loaded over the API",
            fix=f"give one of: {', '.join(BUILTINS)} (GET /api/v1/strategies)",
            field="strategy",
        )
    return name


def _at_most(values: Mapping[str, Any], name: str, most: int) -> None:
    value = values.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value > most:
        raise SpecNotAllowed(
            f"{name}={value} is above the limit of {most:,}",
            fix=f"give {name} of at most {most:,}",
            field=name,
        )


@contextmanager
def spec_fields(parameters_field: str) -> Iterator[None]:
    """Errors raised while a spec is built or planned name the spec's top-level field in
    ``details.field``: an engine setting ``settings`` (or ``periods_per_year`` /
    ``risk_free_rate``), a strategy parameter ``parameters_field`` (``ranges`` or
    ``params``)."""
    try:
        yield
    except TradesweepError as exc:
        details = exc.details
        if "field" not in details:
            setting = details.get("setting")
            if setting in ("periods_per_year", "risk_free_rate"):
                details["field"] = setting
            elif setting is not None or isinstance(exc, SettingsError):
                details["field"] = "settings"
            else:
                details["field"] = parameters_field
        raise


def _with_server_defaults(spec: S, body: Mapping[str, Any], defaults: Defaults) -> S:
    """``spec`` recording the server's strategy defaults (``defaults``: what ``serve`` read
    from ``TRADESWEEP_STRATEGY_DEFAULTS``). A spec may carry ``defaults`` only when they are
    those (a spec printed where the same override applies): a client's own would move the
    strategy's parameter bounds."""
    recorded = spec.with_defaults(resolve_defaults(defaults))
    sent = body.get("defaults")
    if sent and _canonical(sent) != _canonical(recorded.to_dict().get("defaults", {})):
        raise SpecNotAllowed(
            "a spec's strategy defaults over the API are the server's own; these differ "
            "from them (they would change the strategy's defaults and parameter bounds)",
            fix="leave defaults out: the server records its own",
            field="defaults",
        )
    return recorded


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=dict)
    except (TypeError, ValueError):
        return repr(value)


def _capped(spec: SweepSpec, max_combinations: int | None) -> SweepSpec:
    """The spec under the server's cap: a larger ``max_combinations`` is lowered to it (a
    grid, or ``trials``, above the cap is then refused when the spec is checked)."""
    if max_combinations is None or spec.max_combinations <= max_combinations:
        return spec
    return spec.replace(max_combinations=max_combinations)


def submit_sweep_spec(
    session: Session,
    tenant_id: int,
    body: Mapping[str, Any],
    *,
    tickers: Collection[str],
    idempotency_key: str | None = None,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Check, plan and queue a :class:`SweepSpec` given as JSON, recording the server's
    strategy ``defaults``."""
    values = allowed_values(body, SWEEP_FIELDS, what="sweep spec", tickers=tickers)
    with spec_fields("ranges"):
        spec = _capped(SweepSpec.from_dict(values), max_combinations)
        spec = _with_server_defaults(spec, body, defaults)
        counts = plan_counts(spec)
    dumped = spec.to_dict()
    return queue_job(
        session,
        tenant_id,
        JobType.SWEEP,
        dumped,
        dumped,
        ticker=spec.data,
        webhook_url=None,
        idempotency_key=idempotency_key,
        counts=counts,
        estimate=estimate_seconds(counts.valid),
    )


def submit_walkforward_spec(
    session: Session,
    tenant_id: int,
    body: Mapping[str, Any],
    *,
    tickers: Collection[str],
    bars: Callable[[str], int],
    idempotency_key: str | None = None,
    max_combinations: int | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Check, plan and queue a :class:`WalkForwardSpec` given as JSON, recording the
    server's strategy ``defaults``; ``bars(ticker)`` is the dataset's length, which the
    windows must fit."""
    values = allowed_values(body, WALKFORWARD_FIELDS, what="walk-forward spec", tickers=tickers)
    with spec_fields("ranges"):
        spec = WalkForwardSpec.from_dict(values)
        spec = dataclasses.replace(spec, sweep=_capped(spec.sweep, max_combinations))
        spec = _with_server_defaults(spec, body, defaults)
        check_fits(spec, bars(spec.sweep.data))
        counts = plan_counts(spec.sweep)
    dumped = spec.to_dict()
    return queue_job(
        session,
        tenant_id,
        JobType.WALKFORWARD,
        dumped,
        dumped,
        ticker=spec.sweep.data,
        webhook_url=None,
        idempotency_key=idempotency_key,
        counts=counts,
        estimate=estimate_seconds(counts.valid, windows=5),
        warnings=walkforward_warnings(spec),
    )


def submit_backtest_spec(
    session: Session,
    tenant_id: int,
    body: Mapping[str, Any],
    *,
    tickers: Collection[str],
    idempotency_key: str | None = None,
    defaults: Defaults = None,
) -> Submission:
    """Check and queue a :class:`BacktestSpec` given as JSON, recording the server's
    strategy ``defaults`` (its parameters checked against the strategy's schema)."""
    values = allowed_values(body, BACKTEST_FIELDS, what="backtest spec", tickers=tickers)
    with spec_fields("params"):
        spec = _with_server_defaults(BacktestSpec.from_dict(values), body, defaults)
        get_strategy(spec.strategy, spec.params, defaults=spec.defaults_override())
    dumped = spec.to_dict()
    return queue_job(
        session,
        tenant_id,
        JobType.BACKTEST,
        dumped,
        dumped,
        ticker=spec.data,
        webhook_url=None,
        idempotency_key=idempotency_key,
        counts=None,
        estimate=1.0,
    )
