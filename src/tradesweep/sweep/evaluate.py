"""``evaluate``: every parameter combination of one strategy on one set of bars -> one row of
metrics each, plus per-block return statistics for the overfitting diagnostics.

Two paths give the same numbers (tested to 1e-9 relative against ``compute_metrics`` of
``run_backtest``):

* ``"fused"`` (:mod:`tradesweep.sweep.fused`): built-ins with a fused form
  (:data:`FUSED_STRATEGIES`); each distinct indicator setting is computed once and one
  parallel numba kernel simulates every combination into running accumulators.
* ``"general"`` (:mod:`tradesweep.sweep.per_combination`): any strategy; one full backtest per
  combination in a process pool.

``path="auto"`` takes the fused path when the strategy has one. Under the ``talib`` indicator
convention the fused kernel reads TA-Lib's EMA and band-std rows (and ATR for ATR stops);
``macd`` (:data:`~tradesweep.sweep.fused.PANDAS_ONLY`) has no such rows and takes the general
path.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradesweep.engine.inputs import EngineInputs, engine_inputs
from tradesweep.engine.settings import EngineSettings
from tradesweep.errors import ParameterError, SettingsError, StrategyError
from tradesweep.indicators.convention import (
    DEFAULT_CONVENTION,
    IndicatorConvention,
    check_convention,
)
from tradesweep.metrics import KEYS, infer_periods_per_year
from tradesweep.metrics.periods import as_utc_index, day_clock
from tradesweep.metrics.summary import _buy_and_hold_pct as buy_and_hold_pct
from tradesweep.metrics.table import METRICS
from tradesweep.strategies import Param, Signals, Strategy, strategy_class
from tradesweep.sweep import fused as fused_
from tradesweep.sweep import per_combination
from tradesweep.sweep.axes import check_setting_rows, check_setting_value, setting_axes
from tradesweep.sweep.progress import (
    Cancel,
    ProgressCallback,
    ProgressInfo,
    ProgressTracker,
    SweepCancelled,
)

TEXT_KEYS = tuple(m.key for m in METRICS if m.source == "backtest" and m.unit in ("date", "text"))
METRIC_COLUMNS: tuple[str, ...] = tuple(key for key in KEYS if key not in TEXT_KEYS)
"""The columns of :attr:`EvaluationResult.metrics`: every key of ``compute_metrics`` except
the text ones (the same for all combinations, or ``avg_trade_duration_days`` as text)."""

FUSED_STRATEGIES: tuple[str, ...] = tuple(fused_.PLANNERS)
"""Built-ins evaluated by the fused kernel."""


PathName = Literal["auto", "fused", "general"]

__all__ = [
    "FUSED_STRATEGIES",
    "METRIC_COLUMNS",
    "BlockStats",
    "EvaluationResult",
    "ProgressInfo",
    "SweepCancelled",
    "evaluate",
]


@dataclass(frozen=True, eq=False)
class BlockStats:
    """Per-bar return statistics over ``n_blocks`` contiguous blocks of bars (bar ``i`` is in
    block ``i * n_blocks // n``), each ``(n_blocks, n_combinations)``: the sum of the
    returns, the sum of their squares, and how many there are (a return after ruin, which is
    undefined, is left out). The input of the PBO diagnostic."""

    sum_r: np.ndarray
    sum_r2: np.ndarray
    count: np.ndarray

    @property
    def n_blocks(self) -> int:
        return int(self.sum_r.shape[0])


@dataclass(frozen=True)
class EvaluationResult:
    """``params``: one row per combination (the input's index), one column per parameter
    (those given, in input order, then the schema's other parameters at their values, then
    the setting axes given, in :data:`~tradesweep.sweep.axes.SETTING_AXES` order);
    ``metrics``: same rows, :data:`METRIC_COLUMNS` as float64, NaN where ``compute_metrics``
    gives None; ``path``: ``"fused"`` or ``"general"``."""

    params: pd.DataFrame
    metrics: pd.DataFrame
    block_stats: BlockStats | None
    path: str
    elapsed_seconds: float


def evaluate(
    bars: pd.DataFrame,
    strategy: str | type[Strategy],
    combinations: Sequence[Mapping[str, float]] | pd.DataFrame,
    settings: EngineSettings | None = None,
    *,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
    n_blocks: int | None = 16,
    path: PathName = "auto",
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION,
) -> EvaluationResult:
    """Backtest every combination of ``strategy``'s parameters on ``bars``.

    Args:
        bars: the OHLCV contract frame (UTC DatetimeIndex, float64 open/high/low/close).
        strategy: a name or path (as ``get_strategy`` takes) or a Strategy class.
        combinations: parameter mappings, or a frame with one column per parameter;
            parameters left out take the strategy's defaults. Each is validated. Setting
            axes (``stop_loss``, ``take_profit``, ``size``, ... :data:`~tradesweep.sweep.axes.
            SETTING_AXES`) may be given too: each combination then runs with its own values
            of them over ``settings``; they follow the parameters in ``params``.
        settings: engine settings for every combination (a declarative strategy's execution
            settings fill the fields left at their defaults, as in ``tradesweep backtest``).
        periods_per_year: bars per year; inferred from the timestamps when None.
        risk_free_rate: annual fraction for Sharpe and Sortino.
        n_blocks: blocks of bars for :class:`BlockStats` (None: no block statistics).
        path: ``"auto"``, ``"fused"`` (refused for a strategy without a fused form) or
            ``"general"``.
        workers: threads (fused) or processes (general); None uses every core; 1 runs in
            this thread / process.
        progress: called with a :class:`ProgressInfo` after each chunk of ~0.25 s of work,
            at least once a second, last with ``done == total``.
        cancel: a callable or ``threading.Event``, checked between chunks; when it fires
            :class:`SweepCancelled` is raised.
        indicator_convention: ``"pandas"`` or ``"talib"``: how EMA, MACD, ATR and Bollinger
            are computed (the strategies' and the ATR stops'); see the module docstring for
            the path it takes.

    Raises:
        TradesweepError: bad bars, strategy, parameters or settings (saying which and how to
            fix it); :class:`SweepCancelled` when cancelled.
    """
    t0 = time.perf_counter()
    settings = settings or EngineSettings()
    if not isinstance(settings, EngineSettings):
        raise SettingsError(
            f"settings must be EngineSettings, got {type(settings).__name__}",
            fix="build them with EngineSettings(...) or EngineSettings.from_dict({...})",
        )
    cls = _strategy_class(strategy)
    combinations, setting_columns = split_settings(cls, combinations, settings)
    columns, row_index = validated_columns(cls, combinations)
    x = engine_inputs(bars, Signals.empty(len(bars)))
    index = as_utc_index(x.index)
    run = _Run(
        x=x,
        days=day_clock(index),
        settings=settings,
        periods_per_year=_periods_per_year(index, periods_per_year),
        risk_free_rate=_risk_free_rate(risk_free_rate),
        block_start=block_starts(len(index), n_blocks),
        workers=_workers(workers),
        tracker=ProgressTracker(len(row_index), progress, cancel),
        indicator_convention=check_convention(indicator_convention),
    )
    chosen = _choose_path(cls, path, run.indicator_convention)
    if chosen == "fused":
        values, blocks = _evaluate_fused(run, cls, columns, setting_columns)
    else:
        values, blocks = _evaluate_general(run, bars, cls, columns, setting_columns)
    return EvaluationResult(
        params=pd.DataFrame({**columns, **setting_columns}, index=row_index),
        metrics=pd.DataFrame(values, index=row_index, columns=list(METRIC_COLUMNS), dtype=float),
        block_stats=None if n_blocks is None else BlockStats(*blocks),
        path=chosen,
        elapsed_seconds=time.perf_counter() - t0,
    )


@dataclass(frozen=True)
class _Run:
    """What both paths share, checked."""

    x: EngineInputs
    days: np.ndarray
    settings: EngineSettings
    periods_per_year: float | None
    risk_free_rate: float
    block_start: np.ndarray
    workers: int | None
    tracker: ProgressTracker
    indicator_convention: IndicatorConvention = DEFAULT_CONVENTION


def _evaluate_fused(
    run: _Run,
    cls: type[Strategy],
    columns: dict[str, np.ndarray],
    setting_columns: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    name = fused_.fused_name(cls)
    assert name is not None
    n = run.x.close.shape[0]
    out = fused_.run_fused(
        run.x,
        name,
        columns,
        run.settings,
        run.days,
        run.block_start,
        run.tracker,
        run.workers,
        indicator_convention=run.indicator_convention,
        setting_columns=setting_columns,
    )
    metrics = fused_.metrics_from_acc(
        out.acc,
        bars=n,
        cash=run.settings.cash,
        periods_per_year=run.periods_per_year,
        risk_free_rate=run.risk_free_rate,
        elapsed_days=float(run.days[-1]),
    )
    common = {
        "bars": n,
        "periods_per_year": run.periods_per_year,
        "buy_and_hold_return_pct": buy_and_hold_pct(run.x.close),
    }
    count = out.acc.shape[0]
    metrics.update({key: np.full(count, _float(value)) for key, value in common.items()})
    return np.column_stack([metrics[key] for key in METRIC_COLUMNS]), out.block_stats


def _evaluate_general(
    run: _Run,
    bars: pd.DataFrame,
    cls: type[Strategy],
    columns: dict[str, np.ndarray],
    setting_columns: Mapping[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    ctx = per_combination.Context(
        bars=bars,
        cls=cls,
        settings=run.settings,
        periods_per_year=run.periods_per_year,
        risk_free_rate=run.risk_free_rate,
        block_start=run.block_start,
        columns=METRIC_COLUMNS,
        indicator_convention=run.indicator_convention,
        setting_names=tuple(setting_columns),
    )
    columns = {**columns, **setting_columns}
    names = list(columns)
    rows = [dict(zip(names, row, strict=True)) for row in zip(*_lists(columns), strict=True)]
    processes = run.workers or max(1, min(os.cpu_count() or 1, len(rows)))
    return per_combination.run_general(ctx, rows, run.tracker, processes)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _strategy_class(strategy: str | type[Strategy]) -> type[Strategy]:
    if isinstance(strategy, type):
        if not issubclass(strategy, Strategy):
            raise StrategyError(
                f"{strategy.__qualname__} is not a Strategy subclass",
                fix="pass a strategy name or path, or a tradesweep.strategies.Strategy subclass",
            )
        return strategy
    if isinstance(strategy, str | os.PathLike):
        return strategy_class(strategy)
    raise StrategyError(
        f"strategy must be a name, a path or a Strategy class, got {type(strategy).__name__}",
        fix="e.g. evaluate(bars, 'sma_crossover', combinations)",
    )


def _choose_path(cls: type[Strategy], path: str, convention: str = DEFAULT_CONVENTION) -> str:
    name = fused_.fused_name(cls)
    if convention != DEFAULT_CONVENTION and name in fused_.PANDAS_ONLY:
        if path == "fused":
            raise StrategyError(
                f"strategy '{cls.name}' has no fused form under the '{convention}' indicator "
                "convention",
                fix="use path='general' or 'auto' (auto takes the general path)",
                strategy=cls.name,
            )
        name = None
    fusable = name is not None
    if path == "auto":
        return "fused" if fusable else "general"
    if path == "general" or (path == "fused" and fusable):
        return path
    if path == "fused":
        raise StrategyError(
            f"strategy '{cls.name}' has no fused form",
            fix=f"use path='general' or 'auto'; fused strategies: {', '.join(FUSED_STRATEGIES)}",
            strategy=cls.name,
        )
    raise SettingsError(
        f"path is {path!r}, not one of auto, fused, general",
        fix="pass path='auto', 'fused' or 'general'",
        field="path",
    )


def _workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise SettingsError(
            f"workers must be a positive whole number, got {workers!r}",
            fix="pass workers=1 to run in this process, or leave it out to use every core",
            field="workers",
        )
    return int(workers)


def _periods_per_year(index: pd.DatetimeIndex, given: float | None) -> float | None:
    """``compute_metrics``' rule: the given value, else inferred (None for one bar)."""
    if given is None:
        return infer_periods_per_year(index) if len(index) >= 2 else None
    if isinstance(given, bool) or not isinstance(given, int | float) or not 0 < given < math.inf:
        raise SettingsError(
            f"periods_per_year must be a positive number, got {given!r}",
            fix="leave it out to infer it from the timestamps, or pass e.g. 252",
            field="periods_per_year",
        )
    return float(given)


def _risk_free_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not -1 < rate < math.inf:
        raise SettingsError(
            f"risk_free_rate must be an annual fraction above -1, got {rate!r}",
            fix="pass 0.04 for 4 % a year",
            field="risk_free_rate",
        )
    return float(rate)


def normalise_combinations(
    cls: type[Strategy], combinations: Sequence[Mapping[str, Any]] | pd.DataFrame
) -> pd.DataFrame:
    """The combinations as a validated frame: the given columns in input order, then the
    schema's other parameters at their defaults (a mapping that leaves out a parameter others
    give gets its default too); integer parameters as int64, float ones as float64. Unknown
    names, missing values (None, NaN), bad values and failed cross-parameter rules raise
    :class:`ParameterError` naming the combination."""
    columns, index = validated_columns(cls, combinations)
    return pd.DataFrame(columns, index=index)


def split_settings(
    cls: type[Strategy],
    combinations: Sequence[Mapping[str, Any]] | pd.DataFrame,
    settings: EngineSettings,
) -> tuple[Sequence[Mapping[str, Any]] | pd.DataFrame, dict[str, np.ndarray]]:
    """The combinations without their setting axes (:data:`~tradesweep.sweep.axes.
    SETTING_AXES` that are not strategy parameters) and those as float64 columns, every
    value checked by ``EngineSettings``' rules over ``settings``."""
    available = setting_axes([p.name for p in cls.schema])
    if isinstance(combinations, pd.DataFrame):
        names = [str(c) for c in combinations.columns if str(c) in available]
        if not names:
            return combinations, {}
        raw = {name: combinations[name].to_numpy() for name in names}
        rest: Sequence[Mapping[str, Any]] | pd.DataFrame = combinations.drop(columns=names)
    else:
        rows = list(combinations)
        if not all(isinstance(row, Mapping) for row in rows):
            return rows, {}  # validated_columns says which row is wrong
        names = [n for n in available if any(n in row for row in rows)]
        if not names:
            return rows, {}
        raw = {
            name: np.array(
                [row[name] if name in row else _setting_default(settings, name) for row in rows]
            )
            for name in names
        }
        rest = [{k: v for k, v in row.items() if k not in names} for row in rows]
    out: dict[str, np.ndarray] = {}
    for name in (n for n in available if n in raw):
        values = raw[name]
        distinct = {repr(v): v for v in values.tolist()}
        checked = {key: check_setting_value(settings, name, v) for key, v in distinct.items()}
        out[name] = np.array([checked[repr(v)] for v in values.tolist()], dtype=np.float64)
    check_setting_rows(settings, out)
    return rest, out


def _setting_default(settings: EngineSettings, name: str) -> Any:
    value = getattr(settings, name)
    if value is None:
        raise ParameterError(
            f"setting axis '{name}' is given in some combinations only, and is off in the settings",
            fix=f"give {name} in every combination, or set it in the settings",
            parameter=name,
        )
    return value


def _lists(columns: Mapping[str, np.ndarray]) -> list[list[Any]]:
    return [values.tolist() for values in columns.values()]


def validated_columns(
    cls: type[Strategy], combinations: Sequence[Mapping[str, Any]] | pd.DataFrame
) -> tuple[dict[str, np.ndarray], pd.Index]:
    """:func:`normalise_combinations` as parameter columns and the row index."""
    if isinstance(combinations, pd.DataFrame):
        index = combinations.index
        array = combinations.to_numpy()
        if array.dtype == object:  # mixed columns: one at a time keeps each one's type
            array = None
        given = {
            str(c): combinations.iloc[:, j].to_numpy() if array is None else array[:, j]
            for j, c in enumerate(combinations.columns)
        }
    else:
        rows = list(combinations)
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise ParameterError(
                    f"combination {i} is a {type(row).__name__}, not a mapping of name to value",
                    fix='give e.g. [{"fast": 10, "slow": 30}, ...] or a DataFrame',
                    combination=i,
                )
        index = pd.RangeIndex(len(rows))
        names = list(dict.fromkeys(str(key) for row in rows for key in row))
        defaults = cls.defaults()
        given = {
            name: np.array([row.get(name, defaults.get(name)) for row in rows]) for name in names
        }
    if len(index) == 0:
        raise ParameterError("there are no combinations to evaluate", fix="give at least one")
    known = {p.name for p in cls.schema}
    for name, values in given.items():
        if name not in known:
            cls.validate_params({name: values[0]})  # unknown: raises with a did-you-mean
        if pd.isna(values).any():
            row = int(np.flatnonzero(pd.isna(values))[0])
            raise ParameterError(
                f"combination {row} has no value for parameter '{name}'",
                fix="give a number, or leave the parameter out to use its default",
                combination=row,
                parameter=name,
            )
    schema = {p.name: p for p in cls.schema}
    columns = {
        name: _coerce_column(values, schema[name], cls.name) for name, values in given.items()
    }
    for param in cls.schema:
        if param.name not in given:
            columns[param.name] = np.full(len(index), param.default, dtype=_dtype(param.type))
    _check_rows(cls, columns)
    return columns, index


def _coerce_column(values: np.ndarray, param: Param, strategy: str) -> np.ndarray:
    """``param.coerce`` on each distinct value of a column (numbers compare as numbers)."""
    if values.dtype.kind not in "iuf":
        values = values.astype(object)
        keys = np.array([repr(v) for v in values])
    else:
        keys = values
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    coerced = [param.coerce(values[j], strategy) for j in first]
    return np.array(coerced, dtype=_dtype(param.type))[inverse]


def _dtype(kind: type) -> type:
    return np.int64 if kind is int else np.float64


def _check_rows(cls: type[Strategy], columns: Mapping[str, np.ndarray]) -> None:
    """The strategy's cross-parameter rule on every row (once per distinct row)."""
    names = list(columns)
    seen: set[tuple[Any, ...]] = set()
    for i, row in enumerate(zip(*_lists(columns), strict=True)):
        if row in seen:
            continue
        seen.add(row)
        try:
            cls.check(dict(zip(names, row, strict=True)))
        except ParameterError as exc:
            raise ParameterError(
                f"combination {i}: {exc.message}", fix=exc.fix, combination=i, **exc.details
            ) from None


def block_starts(n: int, n_blocks: int | None) -> np.ndarray:
    """First bar of each block and ``n`` at the end: block ``b`` holds the bars ``i`` with
    ``i * n_blocks // n == b`` (with more blocks than bars some are empty). One block when
    ``n_blocks`` is None."""
    if n_blocks is None:
        return np.array([0, n], dtype=np.int64)
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int | np.integer):
        raise SettingsError(
            f"n_blocks must be a whole number, got {n_blocks!r}", fix="e.g. 16", field="n_blocks"
        )
    if n_blocks < 1:
        raise SettingsError(
            f"n_blocks is {n_blocks}, below 1", fix="e.g. 16 (or None for none)", field="n_blocks"
        )
    b = np.arange(n_blocks + 1, dtype=np.int64)
    return (b * n + n_blocks - 1) // n_blocks
