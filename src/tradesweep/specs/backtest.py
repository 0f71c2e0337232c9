"""``BacktestSpec``: everything that determines one backtest.

**Explicit settings.** A declarative strategy may carry execution settings (stop_loss,
take_profit, trailing_stop, size, max_drawdown). They are *defaults*: an engine setting the
spec names explicitly wins. The spec records which settings are explicit in
``explicit_settings``; when built from a dict these are the keys of ``settings``, when built
directly from an :class:`EngineSettings` (and ``explicit_settings`` is left ``None``) they are
the fields that differ from the ``EngineSettings`` defaults. An explicit field also overrides
its exclusive partner (an explicit ``stop_loss_atr`` drops the file's ``stop_loss``), and the
file's ``size`` (a fraction of equity) only applies while ``size_type`` is ``percent`` and
neither ``size`` nor ``size_type`` is explicit. The run is
:func:`tradesweep.services.backtest.run_backtest_spec`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tradesweep.data.window import check_window
from tradesweep.engine import EngineSettings
from tradesweep.errors import TradesweepError, did_you_mean
from tradesweep.indicators.convention import (
    DEFAULT_CONVENTION,
    IndicatorConvention,
    check_spec_convention,
    convention_field,
)
from tradesweep.metrics.periods import check_periods_per_year, check_risk_free_rate
from tradesweep.specs.base import Spec
from tradesweep.specs.defaults import check_defaults, defaults_field, override_of
from tradesweep.strategies.defaults import DefaultsOverride

SETTING_NAMES = tuple(f.name for f in dataclasses.fields(EngineSettings))
WINDOW_FIELDS = ("timeframe", "start", "end")
"""The bars a spec runs on: those between ``start`` and ``end`` (inclusive, ISO dates or
timestamps in UTC) resampled to ``timeframe``."""
DEFAULT_SETTINGS = EngineSettings().to_dict()


class SpecError(TradesweepError):
    """A backtest spec with an unknown, missing or mistyped field."""

    code = "invalid_spec"


class InsufficientBars(TradesweepError):
    """Fewer bars than the strategy's warm-up needs to open and close a trade."""

    code = "insufficient_bars"


@dataclass(frozen=True)
class BacktestSpec(Spec):
    """Everything that determines one backtest; equal specs give equal results.

    ``data`` is a registered ticker or a CSV/Parquet path; ``strategy`` a built-in name, a
    declarative ``.yaml`` file or a plugin (``.py``, directory, ``file.py:Class``);
    ``params`` the strategy parameters as given (validated when the strategy is built);
    ``plugins`` extra plugin paths that make plugin strategy names resolvable (empty: the
    ``TRADESWEEP_STRATEGY_PLUGINS`` variable applies). ``periods_per_year`` is inferred from
    the timestamps when None; ``risk_free_rate`` is an annual fraction. ``start`` and ``end``
    (ISO dates or timestamps, UTC, both inclusive: a date means the whole day) keep only the
    bars between them; ``timeframe`` then resamples them (``"1d"``, ``"4h"``, ``"1w"``: see
    :func:`~tradesweep.data.resample_bars`). ``indicator_convention`` (``pandas`` or ``talib``,
    docs/indicators.md) says how EMA, MACD, ATR and Bollinger are computed, ATR stops
    included. ``defaults`` records the strategy-defaults override that applies to a built-in
    ``strategy`` (:mod:`tradesweep.specs.defaults`; :meth:`with_defaults`). Treat ``params``
    and ``defaults`` as read-only: :attr:`spec_id` hashes them.
    """

    kind: ClassVar[str] = "backtest"
    error: ClassVar[type[TradesweepError]] = SpecError

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
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("data", "strategy"):
            object.__setattr__(self, name, check_name(self, name, SpecError))
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
            explicit = frozenset(k for k, v in given.items() if v != DEFAULT_SETTINGS[k])
        object.__setattr__(self, "explicit_settings", _explicit(explicit))
        check_window(self.timeframe, self.start, self.end, error=SpecError)
        check_spec_convention(self.indicator_convention, SpecError)
        object.__setattr__(
            self, "defaults", check_defaults(self.defaults, self.strategy, SpecError)
        )

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        """``settings`` is a dict of the engine settings given (each one explicit)."""
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
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "strategy": self.strategy,
            "params": dict(self.params),
            "settings": self.settings.to_dict(),
            "explicit_settings": sorted(self.explicit_settings or ()),
            "periods_per_year": self.periods_per_year,
            "risk_free_rate": self.risk_free_rate,
            "plugins": list(self.plugins),
            # only when set, so the spec_id of a spec without them is unchanged
            **{k: v for k in WINDOW_FIELDS if (v := getattr(self, k)) is not None},
            **convention_field(self.indicator_convention),
            **defaults_field(self.defaults),
        }

    def replace(self, **changes: Any) -> BacktestSpec:
        """A copy with ``changes`` applied (validated like a new spec). ``explicit_settings``
        is kept unless changed: pass ``explicit_settings=None`` with new ``settings`` to
        recompute it from the fields that differ from the defaults."""
        return dataclasses.replace(self, **changes)

    def with_defaults(self, override: DefaultsOverride) -> BacktestSpec:
        """This spec recording what ``override`` changes in its strategy (nothing: none)."""
        return self.replace(defaults=override.entries_for(self.strategy))

    def defaults_override(self) -> DefaultsOverride:
        """The override the run applies: the recorded one, never the environment's."""
        return override_of(self.strategy, self.defaults)


def check_name(spec: Spec, name: str, error: type[TradesweepError]) -> str:
    """Field ``name`` of ``spec`` (``data`` or ``strategy``) as a stripped non-empty string."""
    value = getattr(spec, name)
    value = str(value) if isinstance(value, Path) else value
    if not isinstance(value, str) or not value.strip():
        raise error(
            f"{spec.what()} field '{name}' must be a non-empty string, got {value!r}",
            fix="give a ticker or file path"
            if name == "data"
            else "give a strategy name or file path",
            field=name,
        )
    return value.strip()


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
        if name not in SETTING_NAMES:
            hint = did_you_mean(name, SETTING_NAMES)
            raise SpecError(
                f"explicit_settings names unknown engine setting '{name}'",
                fix=f"{hint}valid settings: {', '.join(SETTING_NAMES)}",
                field="explicit_settings",
            )
    return names
