"""``SweepSpec``: everything that determines one sweep, frozen and hashable to an id.

Build one from JSON-like data with :meth:`SweepSpec.from_dict` (unknown fields are refused
with a did-you-mean, a ``preset`` is resolved) or directly. Equal specs give equal results, so
:attr:`SweepSpec.spec_id` (a hash of the canonical JSON) serves as run id and cache key. The
run is :func:`tradesweep.sweep.run_sweep`.

The checks that need the sweep package's parsers (ranges, presets, objectives) import them
where they run: ``tradesweep.sweep`` imports this module, so a module-level import of it here
would be a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

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
from tradesweep.specs.backtest import DEFAULT_SETTINGS, WINDOW_FIELDS, check_name
from tradesweep.specs.base import Spec
from tradesweep.specs.defaults import check_defaults, defaults_field, override_of
from tradesweep.strategies.defaults import DefaultsOverride

SearchName = Literal["grid", "random", "bayes"]
SEARCHES: tuple[str, ...] = ("grid", "random", "bayes")
DEFAULT_TRIALS = 100
"""Trials of a random or Bayesian search when none are given."""
DEFAULT_MIN_TRADES = 1
"""Combinations with fewer closed trades are kept but not ranked (the ``standard`` preset: 20)."""
DEFAULT_TOP = 10
DEFAULT_MAX_COMBINATIONS = 1_000_000


class SweepSpecError(TradesweepError):
    """A sweep spec with an unknown, missing or mistyped field."""

    code = "invalid_spec"


@dataclass(frozen=True)
class SweepSpec(Spec):
    """One sweep: which data, which strategy, which parameter ranges, how to search and rank.

    ``ranges`` maps parameter names to ranges in any form :func:`~tradesweep.sweep.space.
    as_range_spec` reads (``"5:50:5"``, ``[10, 20]``, ``{"min": 5, "max": 50, "step": 5}``,
    ``10``); they are stored normalised to JSON (``{"min", "max", "step"}`` or
    ``{"values": [...]}``) so equal ranges written differently share a :attr:`spec_id`. They
    are checked against the strategy's schema when the sweep runs, before any data is loaded.
    A name may also be an engine setting of :data:`~tradesweep.sweep.axes.SETTING_AXES`
    (``stop_loss``, ``take_profit``, ``size``, ...): it is then swept per combination over
    ``settings``, its values checked by ``EngineSettings``' rules.

    ``search``: ``grid`` (every valid combination), ``random`` (``trials`` distinct valid
    combinations drawn with ``seed``) or ``bayes`` (Optuna TPE, ``trials`` evaluations). A
    random or Bayesian search without ``trials`` runs :data:`DEFAULT_TRIALS`; ``trials`` with a
    grid search is refused. A declarative strategy's own execution settings (stop_loss,
    take_profit, trailing_stop, size, max_drawdown) fill the engine settings left at their
    defaults, per combination. ``preset`` records which preset the values came from
    (:meth:`from_dict` applies it). ``indicator_convention`` (``pandas`` or ``talib``,
    docs/indicators.md) says how EMA, MACD, ATR and Bollinger are computed. Treat ``ranges``
    as read-only: :attr:`spec_id` hashes it. ``defaults`` records the strategy-defaults
    override that applies to a built-in ``strategy``, as in a backtest spec.
    """

    kind: ClassVar[str] = "sweep"
    error: ClassVar[type[TradesweepError]] = SweepSpecError

    data: str
    strategy: str
    ranges: Mapping[str, Any] = field(default_factory=dict)
    constraint: str | None = None
    search: SearchName = "grid"
    trials: int | None = None
    seed: int = 0
    objective: str = "score"
    min_trades: int = DEFAULT_MIN_TRADES
    top: int = DEFAULT_TOP
    settings: EngineSettings = field(default_factory=EngineSettings)
    preset: str | None = None
    periods_per_year: float | None = None
    risk_free_rate: float = 0.0
    max_combinations: int = DEFAULT_MAX_COMBINATIONS
    plugins: tuple[str, ...] = ()
    timeframe: str | None = None
    start: str | None = None
    end: str | None = None
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from tradesweep.sweep.ranking import validate_objective

        for name in ("data", "strategy"):
            object.__setattr__(self, name, check_name(self, name, SweepSpecError))
        object.__setattr__(self, "ranges", normalise_ranges(self.ranges))
        if self.constraint is not None and (
            not isinstance(self.constraint, str) or not self.constraint.strip()
        ):
            raise SweepSpecError(
                f"sweep field 'constraint' must be an expression, got {self.constraint!r}",
                fix='e.g. "slow >= 2 * fast", or leave it out',
                field="constraint",
            )
        self._check_search()
        validate_objective(self.objective)
        _whole("seed", self.seed, 0, "e.g. 0")
        _whole("min_trades", self.min_trades, 0, "e.g. 20")
        _whole("top", self.top, 1, "e.g. 10")
        _whole("max_combinations", self.max_combinations, 1, "e.g. 1000000")
        if not isinstance(self.settings, EngineSettings):
            raise SweepSpecError(
                "sweep field 'settings' must be EngineSettings, got "
                f"{type(self.settings).__name__}",
                fix="use SweepSpec.from_dict to pass settings as a dict",
                field="settings",
            )
        object.__setattr__(self, "periods_per_year", check_periods_per_year(self.periods_per_year))
        object.__setattr__(self, "risk_free_rate", check_risk_free_rate(self.risk_free_rate))
        if self.preset is not None:
            object.__setattr__(self, "preset", str(self.preset))
        plugins = (self.plugins,) if isinstance(self.plugins, str | Path) else self.plugins
        object.__setattr__(self, "plugins", tuple(str(p) for p in plugins))
        check_window(self.timeframe, self.start, self.end, error=SweepSpecError)
        check_spec_convention(self.indicator_convention, SweepSpecError)
        object.__setattr__(
            self, "defaults", check_defaults(self.defaults, self.strategy, SweepSpecError)
        )

    def _check_search(self) -> None:
        if self.search not in SEARCHES:
            raise SweepSpecError(
                f"unknown search method {self.search!r}",
                fix=f"{did_you_mean(self.search, SEARCHES)}give one of: {', '.join(SEARCHES)}",
                field="search",
            )
        if self.search == "grid":
            if self.trials is not None:
                raise SweepSpecError(
                    f"trials={self.trials} only applies to a random or Bayesian search; a grid "
                    "search evaluates every valid combination",
                    fix="add search=random (or bayes), or leave trials out",
                    field="trials",
                )
            return
        if self.trials is None:
            object.__setattr__(self, "trials", DEFAULT_TRIALS)
        _whole("trials", self.trials, 1, "e.g. trials=200")
        if int(self.trials or 0) > self.max_combinations:
            raise SweepSpecError(
                f"{self.trials:,} trials are above the limit of {self.max_combinations:,} "
                "combinations",
                fix="ask for fewer trials or raise max_combinations",
                field="trials",
            )

    @classmethod
    def prepare(cls, values: dict[str, Any]) -> dict[str, Any]:
        """``ranges`` may also be a list of CLI items (``["fast=5:50:5", "slow=20:200:10"]``),
        ``settings`` a dict of engine settings. With ``preset`` (a built-in name or a
        ``.yaml`` file) the preset's values fill every engine setting ``settings`` does not
        give (for an ``EngineSettings``: does not change from its default) and each of
        ``risk_free_rate``, ``periods_per_year`` and ``min_trades`` that is absent or None."""
        from tradesweep.sweep.preset import SPEC_KEYS, load_preset

        values = {k: v for k, v in values.items() if not (k in SPEC_KEYS and v is None)}
        settings = _settings_dict(values.get("settings"))
        if values.get("preset") is not None:
            preset = load_preset(values["preset"])
            for key, value in preset.spec_fields.items():
                values.setdefault(key, value)
            settings = {**preset.settings, **settings}
        values["settings"] = EngineSettings.from_dict(settings)
        if values.get("ranges") is None:
            values["ranges"] = {}
        return values

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "strategy": self.strategy,
            "ranges": {k: _jsonable(v) for k, v in self.ranges.items()},
            "constraint": self.constraint,
            "search": self.search,
            "trials": self.trials,
            "seed": self.seed,
            "objective": self.objective,
            "min_trades": self.min_trades,
            "top": self.top,
            "settings": self.settings.to_dict(),
            "preset": self.preset,
            "periods_per_year": self.periods_per_year,
            "risk_free_rate": self.risk_free_rate,
            "max_combinations": self.max_combinations,
            "plugins": list(self.plugins),
            # only when set, so the spec_id of a spec without them is unchanged
            **{k: v for k in WINDOW_FIELDS if (v := getattr(self, k)) is not None},
            **convention_field(self.indicator_convention),
            **defaults_field(self.defaults),
        }

    def with_defaults(self, override: DefaultsOverride) -> SweepSpec:
        """This spec recording what ``override`` changes in its strategy (nothing: none)."""
        return self.replace(defaults=override.entries_for(self.strategy))

    def defaults_override(self) -> DefaultsOverride:
        """The override the run applies: the recorded one, never the environment's."""
        return override_of(self.strategy, self.defaults)


def normalise_ranges(ranges: Any) -> dict[str, Any]:
    """Ranges as a name -> JSON dict mapping (``{"min", "max"[, "step"]}`` or
    ``{"values": [...]}``), from a mapping of any accepted form or a list of CLI items."""
    from tradesweep.sweep.space import Range, as_range_spec, parse_ranges

    if isinstance(ranges, str):
        ranges = [ranges]
    if isinstance(ranges, Sequence):
        if not all(isinstance(item, str) for item in ranges):
            raise SweepSpecError(
                f"sweep field 'ranges' as a list must hold NAME=SPEC texts, got {ranges!r}",
                fix='e.g. ["fast=5:50:5", "slow=20:200:10"] or {"fast": "5:50:5"}',
                field="ranges",
            )
        ranges = parse_ranges(ranges)
    if not isinstance(ranges, Mapping):
        raise SweepSpecError(
            f"sweep field 'ranges' must map parameter names to ranges, got {ranges!r}",
            fix='e.g. {"fast": "5:50:5", "slow": [20, 50, 100]}',
            field="ranges",
        )
    out: dict[str, Any] = {}
    for name, spec in ranges.items():
        if not isinstance(name, str):
            raise SweepSpecError(f"parameter name {name!r} is not a string", field="ranges")
        parsed = as_range_spec(spec, name)
        if isinstance(parsed, Range):
            item: dict[str, Any] = {"min": _plain(parsed.min), "max": _plain(parsed.max)}
            if parsed.step is not None:
                item["step"] = _plain(parsed.step)
        else:
            item = {"values": [_plain(v) for v in parsed.values]}
        out[name] = item
    return dict(sorted(out.items()))


def _plain(x: Any) -> Any:
    item = getattr(x, "item", None)
    return item() if callable(item) else x


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def _settings_dict(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    if isinstance(settings, EngineSettings):
        given = settings.to_dict()
        return {k: v for k, v in given.items() if v != DEFAULT_SETTINGS[k]}
    if isinstance(settings, Mapping):
        EngineSettings.from_dict(settings)  # unknown names and bad values fail here
        return dict(settings)
    raise SweepSpecError(
        f"sweep field 'settings' must be a mapping, got {type(settings).__name__}",
        fix='e.g. "settings": {"fees": 0.001}',
        field="settings",
    )


def _whole(name: str, value: Any, low: int, example: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SweepSpecError(
            f"sweep field '{name}' must be a whole number >= {low}, got {value!r}",
            fix=example,
            field=name,
        )
