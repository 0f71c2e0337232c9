"""The backtest use-case: one frozen spec in, one report out.

The CLI, the API and the workers all run a backtest through :func:`run_backtest_spec`:

    spec = BacktestSpec.from_dict({"data": "GOOGL", "strategy": "sma_crossover",
                                   "params": {"fast": 10, "slow": 20},
                                   "settings": {"fees": 0.001}})
    report = run_backtest_spec(spec)
    report.metrics["sharpe_ratio"], report.to_json()

**Explicit settings.** A declarative strategy may carry execution settings (stop_loss,
take_profit, trailing_stop, size, max_drawdown). They are *defaults*: an engine setting the
spec names explicitly wins. The spec records which settings are explicit in
``explicit_settings``; when built from a dict these are the keys of ``settings``, when built
directly from an :class:`EngineSettings` (and ``explicit_settings`` is left ``None``) they are
the fields that differ from the ``EngineSettings`` defaults. An explicit field also overrides
its exclusive partner (an explicit ``stop_loss_atr`` drops the file's ``stop_loss``), and the
file's ``size`` (a fraction of equity) only applies while ``size_type`` is ``percent`` and
neither ``size`` nor ``size_type`` is explicit.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import DatasetRegistry, load, window
from tradesweep.engine import BacktestResult, EngineSettings, run_backtest
from tradesweep.errors import TradesweepError, reject_unknown_fields
from tradesweep.indicators.convention import (
    DEFAULT_CONVENTION,
    IndicatorConvention,
    check_spec_convention,
    convention_field,
)
from tradesweep.metrics import drawdown_series, metrics_from_result, monthly_returns, to_json_safe
from tradesweep.metrics.periods import check_periods_per_year, check_risk_free_rate
from tradesweep.strategies import Signals, Strategy, apply_execution, get_strategy
from tradesweep.strategies.registry import Defaults, PluginPaths

SPEC_ID_LENGTH = 16
"""Hex digits of the sha256 kept in :attr:`BacktestSpec.spec_id`."""

_SETTING_NAMES = tuple(f.name for f in dataclasses.fields(EngineSettings))
_WINDOW_FIELDS = ("timeframe", "start", "end")
_DEFAULT_SETTINGS = EngineSettings().to_dict()


class SpecError(TradesweepError):
    """A backtest spec with an unknown, missing or mistyped field."""

    code = "invalid_spec"


class InsufficientBars(TradesweepError):
    """Fewer bars than the strategy's warm-up needs to open and close a trade."""

    code = "insufficient_bars"


@dataclass(frozen=True)
class BacktestSpec:
    """Everything that determines one backtest; equal specs give equal results.

    ``data`` is a registered ticker or a CSV/Parquet path; ``strategy`` a built-in name, a
    declarative ``.yaml`` file or a plugin (``.py``, directory, ``file.py:Class``);
    ``params`` the strategy parameters as given (validated when the strategy is built);
    ``plugins`` extra plugin paths that make plugin strategy names resolvable (empty: those
    passed to :func:`run_backtest_spec`, which the CLI and workers read from
    ``TRADESWEEP_STRATEGY_PLUGINS``). ``periods_per_year`` is inferred from
    the timestamps when None; ``risk_free_rate`` is an annual fraction. ``start`` and ``end``
    (ISO dates or timestamps, UTC, both inclusive: a date means the whole day) keep only the
    bars between them; ``timeframe`` then resamples them (``"1d"``, ``"4h"``, ``"1w"``: see
    :func:`~tradesweep.data.resample_bars`). ``indicator_convention`` (``pandas`` or ``talib``,
    docs/indicators.md) says how EMA, MACD, ATR and Bollinger are computed, ATR stops
    included. Treat ``params`` as read-only: :attr:`spec_id` hashes it.
    """

    data: str
    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    settings: EngineSettings = field(default_factory=EngineSettings)
    periods_per_year: float | None = None
    risk_free_rate: float = 0.0
    plugins: tuple[str, ...] = ()
    explicit_settings: frozenset[str] | None = None
    timeframe: str | None = None
    start: str | None = None
    end: str | None = None
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION

    def __post_init__(self) -> None:
        for name in ("data", "strategy"):
            value = getattr(self, name)
            if isinstance(value, Path):
                value = str(value)
            if not isinstance(value, str) or not value.strip():
                raise SpecError(
                    f"spec field '{name}' must be a non-empty string, got {value!r}",
                    fix="give a ticker or file path"
                    if name == "data"
                    else "give a strategy name or file path",
                    field=name,
                )
            object.__setattr__(self, name, value.strip())
        object.__setattr__(self, "params", _params(self.params))
        if not isinstance(self.settings, EngineSettings):
            raise SpecError(
                f"spec field 'settings' must be EngineSettings, got {type(self.settings).__name__}",
                fix="use BacktestSpec.from_dict to pass settings as a dict",
                field="settings",
            )
        object.__setattr__(self, "periods_per_year", check_periods_per_year(self.periods_per_year))
        object.__setattr__(self, "risk_free_rate", check_risk_free_rate(self.risk_free_rate))
        object.__setattr__(self, "plugins", _plugins(self.plugins))
        explicit = self.explicit_settings
        if explicit is None:
            given = self.settings.to_dict()
            explicit = frozenset(k for k, v in given.items() if v != _DEFAULT_SETTINGS[k])
        object.__setattr__(self, "explicit_settings", _explicit(explicit))
        _check_window(self.timeframe, self.start, self.end)
        check_spec_convention(self.indicator_convention, SpecError)

    def __hash__(self) -> int:
        return hash(self.spec_id)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BacktestSpec:
        """Build a spec from JSON-like data. ``settings`` is a dict of the engine settings
        given (each one explicit); unknown fields are refused with a did-you-mean."""
        if not isinstance(data, Mapping):
            raise SpecError(
                f"a backtest spec must be a mapping, got {type(data).__name__}",
                fix="pass a dict with data, strategy, params and settings",
            )
        known = [f.name for f in dataclasses.fields(cls)]
        reject_unknown_fields(data, known, what="backtest spec", error=SpecError)
        for key in ("data", "strategy"):
            if key not in data:
                raise SpecError(
                    f"backtest spec field '{key}' is missing",
                    fix="give data (a ticker or file) and strategy (a name or file)",
                    field=key,
                )
        values = dict(data)
        settings = values.get("settings")
        if settings is None:
            values["settings"] = EngineSettings()
            values.setdefault("explicit_settings", frozenset())
        elif isinstance(settings, Mapping):
            values["settings"] = EngineSettings.from_dict(settings)
            if values.get("explicit_settings") is None:
                values["explicit_settings"] = frozenset(settings)
        elif not isinstance(settings, EngineSettings):
            raise SpecError(
                f"spec field 'settings' must be a mapping, got {type(settings).__name__}",
                fix='e.g. "settings": {"fees": 0.001}',
                field="settings",
            )
        if values.get("params") is None:
            values["params"] = {}
        if isinstance(values.get("plugins"), str):
            values["plugins"] = (values["plugins"],)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON-able form; ``from_dict(spec.to_dict()) == spec``."""
        return {
            "data": self.data,
            "strategy": self.strategy,
            "params": dict(self.params),
            "settings": self.settings.to_dict(),
            "explicit_settings": sorted(self.explicit_settings or ()),
            "periods_per_year": self.periods_per_year,
            "risk_free_rate": self.risk_free_rate,
            "plugins": list(self.plugins),
            # only when set, so the spec_id of a spec without a window is unchanged
            **{k: v for k in _WINDOW_FIELDS if (v := getattr(self, k)) is not None},
            **convention_field(self.indicator_convention),
        }

    def canonical_json(self) -> str:
        """:meth:`to_dict` as compact JSON with sorted keys: the text :attr:`spec_id` hashes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False)

    @property
    def spec_id(self) -> str:
        """The first :data:`SPEC_ID_LENGTH` hex digits of sha256 of :meth:`canonical_json`."""
        digest = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
        return digest[:SPEC_ID_LENGTH]

    def replace(self, **changes: Any) -> BacktestSpec:
        """A copy with ``changes`` applied (validated like a new spec). ``explicit_settings``
        is kept unless changed: pass ``explicit_settings=None`` with new ``settings`` to
        recompute it from the fields that differ from the defaults."""
        return dataclasses.replace(self, **changes)


def effective_settings(spec: BacktestSpec, strategy: Strategy) -> EngineSettings:
    """The spec's settings with the strategy's execution settings filling the fields the spec
    does not set explicitly (see the module docstring for the rules)."""
    return apply_execution(spec.settings, strategy, spec.explicit_settings or frozenset())


def bars_needed(strategy: Strategy, settings: EngineSettings) -> int:
    """Bars for one trade: the warm-up, a bar whose close signals, and (with
    ``fill="next_open"``) the next bar to fill it."""
    return strategy.warmup_period() + (2 if settings.fill == "next_open" else 1)


@dataclass(frozen=True, eq=False)
class BacktestReport:
    """One backtest's inputs and outputs. ``settings`` are the effective engine settings (the
    spec's with the strategy's execution defaults applied); ``metrics`` is JSON-safe."""

    spec: BacktestSpec
    strategy: Strategy
    settings: EngineSettings
    bars: pd.DataFrame
    signals: Signals
    result: BacktestResult
    metrics: dict[str, Any]
    monthly_returns: pd.DataFrame

    @property
    def spec_id(self) -> str:
        return self.spec.spec_id

    @property
    def ticker(self) -> str:
        """The dataset's ticker when the bars carry one, else ``spec.data``."""
        return str(self.bars.attrs.get("ticker") or self.spec.data)

    def title(self) -> str:
        """``GOOGL · sma_crossover (fast=10, slow=20)``."""
        params = ", ".join(f"{k}={v}" for k, v in self.strategy.params.items())
        return f"{self.ticker} · {self.strategy.name}" + (f" ({params})" if params else "")

    def trades_frame(self) -> pd.DataFrame:
        return self.result.trades_frame()

    def trade_records(self) -> list[dict[str, Any]]:
        """Closed trades as JSON-safe dicts: ISO timestamps, side and exit reason names."""
        frame = self.trades_frame()
        return to_json_safe(frame.to_dict(orient="records"))

    def equity_frame(self) -> pd.DataFrame:
        """Per bar: ``equity``, ``position`` (signed units) and ``drawdown_pct`` (<= 0), indexed
        by ``timestamp``."""
        r = self.result
        dd = drawdown_series(r.equity, self.settings.cash) * 100.0
        frame = pd.DataFrame(
            {"equity": r.equity, "position": r.position, "drawdown_pct": dd + 0.0},
            index=pd.DatetimeIndex(r.index, name="timestamp"),
        )
        return frame

    def config(self) -> dict[str, Any]:
        """What ran: data, strategy, the validated params, the effective settings and the
        spec id; ``spec`` is the spec as given (``BacktestSpec.from_dict(config["spec"])``
        has the same ``spec_id``)."""
        return to_json_safe(
            {
                "spec_id": self.spec_id,
                "data": self.spec.data,
                "ticker": self.ticker,
                "strategy": self.spec.strategy,
                "strategy_name": self.strategy.name,
                "params": dict(self.strategy.params),
                "settings": self.settings.to_dict(),
                "periods_per_year": self.spec.periods_per_year,
                "risk_free_rate": self.spec.risk_free_rate,
                "warmup_period": self.strategy.warmup_period(),
                "spec": self.spec.to_dict(),
            }
        )

    def to_json(self) -> dict[str, Any]:
        """``{"metrics": ..., "trades": [...], "config": ...}``; passes
        ``json.dumps(..., allow_nan=False)``."""
        return {
            "metrics": self.metrics,
            "trades": self.trade_records(),
            "config": self.config(),
        }


def run_backtest_spec(
    spec: BacktestSpec,
    *,
    registry: DatasetRegistry | None = None,
    plugins: PluginPaths = None,
    defaults: Defaults = None,
) -> BacktestReport:
    """Load the bars, build the strategy, check the warm-up, run the engine, compute metrics.

    ``registry`` resolves tickers (default: ``DatasetRegistry()``, the platform's data dir).
    ``plugins`` resolve a plugin strategy's name when the spec lists none; ``defaults`` (a
    :class:`~tradesweep.strategies.DefaultsOverride` or a path) overrides the built-ins'
    defaults (the CLI and workers pass the environment's, :mod:`tradesweep.environment`).
    Raises a :class:`TradesweepError` for an unknown ticker or
    missing file, an unknown strategy, a bad parameter, an invalid setting, or too few bars.
    """
    bars = window_bars(load(spec.data, registry=registry), spec)
    strategy = get_strategy(
        spec.strategy,
        spec.params,
        plugins=list(spec.plugins) or plugins,
        defaults=defaults,
        indicator_convention=spec.indicator_convention,
    )
    settings = effective_settings(spec, strategy)
    _check_warmup(spec, strategy, settings, len(bars))
    signals = strategy.signals(bars)
    result = run_backtest(bars, signals, settings, indicator_convention=spec.indicator_convention)
    metrics = metrics_from_result(
        result,
        bars,
        periods_per_year=spec.periods_per_year,
        risk_free_rate=spec.risk_free_rate,
    )
    monthly = monthly_returns(result.index, result.equity, initial_cash=settings.cash)
    return BacktestReport(
        spec=spec,
        strategy=strategy,
        settings=settings,
        bars=bars,
        signals=signals,
        result=result,
        metrics=metrics,
        monthly_returns=monthly,
    )


def window_bars(bars: pd.DataFrame, spec: BacktestSpec) -> pd.DataFrame:
    """The bars between ``spec.start`` and ``spec.end`` (inclusive), resampled to
    ``spec.timeframe``; the bars unchanged when none is set (:func:`~tradesweep.data.window.
    window_bars`)."""
    return window.window_bars(
        bars, spec.data, spec.timeframe, spec.start, spec.end, error=SpecError
    )


def _check_window(timeframe: str | None, start: str | None, end: str | None) -> None:
    window.check_window(timeframe, start, end, error=SpecError)


def _check_warmup(
    spec: BacktestSpec, strategy: Strategy, settings: EngineSettings, n_bars: int
) -> None:
    needed = bars_needed(strategy, settings)
    if n_bars >= needed:
        return
    warmup = strategy.warmup_period()
    params = ", ".join(f"{k}={v}" for k, v in strategy.params.items())
    raise InsufficientBars(
        f"strategy '{strategy.name}' ({params}) has a warm-up of {warmup} bars and needs at "
        f"least {needed} bars to trade, but {spec.data} has {n_bars}",
        fix="use a longer data set or parameters with a shorter warm-up (smaller windows)",
        strategy=strategy.name,
        warmup_period=warmup,
        bars=n_bars,
        needed=needed,
    )


def _params(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SpecError(
            f"spec field 'params' must be a mapping of name to value, got {value!r}",
            fix='e.g. "params": {"fast": 10, "slow": 20}',
            field="params",
        )
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise SpecError(
                f"parameter name {key!r} is not a string", fix="name parameters", field="params"
            )
        if isinstance(item, np.generic):
            item = item.item()
        if isinstance(item, float) and not math.isfinite(item):
            raise SpecError(
                f"parameter '{key}' is {item!r}", fix="give a finite number", field="params"
            )
        if item is not None and not isinstance(item, str | int | float | bool):
            raise SpecError(
                f"parameter '{key}' must be a number, got {type(item).__name__}",
                fix="give a number",
                field="params",
                parameter=key,
            )
        out[key] = item
    return dict(sorted(out.items()))


def _plugins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | Path):
        value = (value,)
    try:
        return tuple(str(v) for v in value)
    except TypeError:
        raise SpecError(
            f"spec field 'plugins' must be a list of paths, got {value!r}",
            fix="give a list of plugin .py files or directories",
            field="plugins",
        ) from None


def _explicit(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    names = frozenset(str(v) for v in value)
    for name in sorted(names):
        if name not in _SETTING_NAMES:
            close = difflib.get_close_matches(name, _SETTING_NAMES, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise SpecError(
                f"explicit_settings names unknown engine setting '{name}'",
                fix=f"{hint}valid settings: {', '.join(_SETTING_NAMES)}",
                field="explicit_settings",
            )
    return names
