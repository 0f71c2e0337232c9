"""The compute of one job: a spec in, a plain picklable outcome out. No database.

The workers run :func:`execute` in a child process (``tradesweep.jobs``) and write the outcome
to the store themselves; anything else (a test, a notebook) may call it directly::

    outcome = execute("sweep", {"data": "GOOGL", "strategy": "sma_crossover",
                                "ranges": {"fast": "5:20:5", "slow": "30:60:10"}})
    outcome.rows[0]["params"], outcome.job_result("<sweep run id>"), outcome.job_metrics()

Bad input (an unknown parameter, a missing ticker, a malformed spec) raises a
:class:`~tradesweep.errors.TradesweepError` before or while the bars load; ``cancel`` (a
callable or an Event) stops a sweep or walk-forward between chunks with
:class:`~tradesweep.sweep.SweepCancelled`; ``progress`` gets a
:class:`~tradesweep.sweep.ProgressInfo` as chunks finish, then one as each later phase starts
(diagnostics, preparing results).

A ticker resolves in the dataset registry as the job's tenant sees it (``tenant``, the job's
``tenant_id``): that tenant's own uploads first, then the shared data and bundled samples, the
same view the API checked the ticker against when the job was submitted.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import DatasetRegistry, load
from tradesweep.data.window import window_bars
from tradesweep.errors import TradesweepError
from tradesweep.metrics.names import keys_shown_in
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec, SweepSpec, WalkForwardSpec
from tradesweep.strategies.registry import PluginPaths
from tradesweep.sweep.progress import Cancel, ProgressCallback, announce
from tradesweep.sweep.runner import plan_sweep, sweep_bars
from tradesweep.sweep.walkforward import run_walkforward

JOB_TYPES: tuple[str, ...] = ("backtest", "sweep", "walkforward")
"""The values of ``tradesweep.store.JobType`` this module runs."""
BEST_METRICS: tuple[str, ...] = keys_shown_in("sweep_summary")
"""The metrics of the top row copied into a sweep job's ``result["best"]``."""
TICKER_LENGTH = 40
"""Width of the ``ticker`` columns of the store."""

Spec = SweepSpec | BacktestSpec | WalkForwardSpec


class UnknownJobType(TradesweepError):
    code = "unknown_job_type"


class InvalidJobSpec(TradesweepError):
    code = "invalid_spec"


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep job stores: every evaluated row (``SweepResult.all_rows()``: the ranked
    ones first, then those left unranked), the counts, the diagnostics and the warnings
    (``SweepResult.warnings``), plus the job's result and metrics summaries."""

    spec: dict[str, Any]
    spec_id: str
    ticker: str
    strategy: str
    rows: list[dict[str, Any]]
    grid_combinations: int
    valid_combinations: int
    evaluated: int
    diagnostics: dict[str, Any]
    winner: dict[str, Any] | None
    bars: int
    duration_seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def best(self) -> dict[str, Any] | None:
        """The top row's params, score, rank and :data:`BEST_METRICS`, or None when no row
        is ranked."""
        if not self.rows or self.rows[0]["rank"] is None:
            return None
        top = self.rows[0]
        return {
            "params": top["params"],
            "score": top["score"],
            "rank": top["rank"],
            "metrics": {key: top["metrics"].get(key) for key in BEST_METRICS},
        }

    def job_result(self, sweep_run_id: str) -> dict[str, Any]:
        return {
            "sweep_run_id": sweep_run_id,
            "total_combinations": self.valid_combinations,
            "grid_combinations": self.grid_combinations,
            "evaluated": self.evaluated,
            "winner": self.winner,
            "best": self.best,
            "diagnostics": self.diagnostics,
            "warnings": list(self.warnings),
        }

    def job_metrics(self) -> dict[str, Any]:
        return _metrics(self.duration_seconds, self.evaluated, self.bars)


@dataclass(frozen=True)
class BacktestOutcome:
    """What a backtest job stores: metrics and the closed trades (``trade_dt`` records with the
    bar timestamps they index into); ``signals_generated`` counts the bars on which the
    strategy signalled an entry or an exit (taken or not)."""

    spec: dict[str, Any]
    spec_id: str
    ticker: str
    strategy: str
    metrics: dict[str, Any]
    trades: np.ndarray
    index: pd.DatetimeIndex
    bars: int
    duration_seconds: float
    signals_generated: int = 0

    def job_result(self, backtest_run_id: str) -> dict[str, Any]:
        return {
            "backtest_run_id": backtest_run_id,
            "metrics": self.metrics,
            "signals_generated": self.signals_generated,
        }

    def job_metrics(self) -> dict[str, Any]:
        return _metrics(self.duration_seconds, 1, self.bars)


@dataclass(frozen=True)
class WalkForwardOutcome:
    """A walk-forward job's result is its JSON (``WalkForwardResult.to_json()``); no run table."""

    result: dict[str, Any]
    evaluated: int
    bars: int
    duration_seconds: float

    def job_result(self) -> dict[str, Any]:
        return self.result

    def job_metrics(self) -> dict[str, Any]:
        return _metrics(self.duration_seconds, self.evaluated, self.bars)


Outcome = SweepOutcome | BacktestOutcome | WalkForwardOutcome


def parse_spec(job_type: str, spec: Mapping[str, Any]) -> Spec:
    """The frozen spec of a job: ``job.parameters["spec"]`` read by the type's ``from_dict``."""
    kind = _job_type(job_type)
    if kind == "sweep":
        return SweepSpec.from_dict(spec)
    if kind == "backtest":
        return BacktestSpec.from_dict(spec)
    return WalkForwardSpec.from_dict(spec)


def execute(
    job_type: str,
    spec: Mapping[str, Any] | Spec,
    *,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    registry: DatasetRegistry | None = None,
    plugins: PluginPaths = None,
    tenant: int | str | None = None,
) -> Outcome:
    """Run one job's compute. ``workers`` goes to the sweep evaluation (None: every core).
    ``registry`` (default: ``DatasetRegistry()``, the platform's data dir) is read as
    ``tenant`` sees it when a tenant is given. ``plugins`` resolve a plugin strategy's
    name (a worker passes those it read from the environment at start); the built-ins'
    default overrides are the ones the spec records."""
    if tenant is not None:
        registry = (registry or DatasetRegistry()).for_tenant(tenant)
    if isinstance(spec, Mapping):
        parsed = parse_spec(job_type, spec)
    elif isinstance(spec, SweepSpec | BacktestSpec | WalkForwardSpec):
        parsed = spec
    else:
        raise InvalidJobSpec(
            f"a {job_type} job needs a spec (a mapping), got {type(spec).__name__}",
            fix='create the job with parameters {"spec": {...}, "request": {...}}',
            field="spec",
        )
    started = time.perf_counter()
    if isinstance(parsed, SweepSpec):
        return _sweep(parsed, started, progress, cancel, workers, registry, plugins)
    if isinstance(parsed, BacktestSpec):
        return _backtest(parsed, started, registry, plugins)
    return _walkforward(parsed, started, progress, cancel, workers, registry, plugins)


def _sweep(
    spec: SweepSpec,
    started: float,
    progress: ProgressCallback | None,
    cancel: Cancel | None,
    workers: int | None,
    registry: DatasetRegistry | None,
    plugins: PluginPaths,
) -> SweepOutcome:
    # run_sweep's steps, kept apart so the bars' ticker and length are at hand
    plan = plan_sweep(spec, plugins=plugins)
    bars = window_bars(
        load(spec.data, registry=registry), spec.data, spec.timeframe, spec.start, spec.end
    )
    result = sweep_bars(plan, bars, progress=progress, cancel=cancel, workers=workers)
    valid = result.valid_combinations
    # one plain row per combination: as long as the evaluation itself for a large sweep
    announce(progress, "preparing results", result.evaluated, time.perf_counter() - started)
    return SweepOutcome(
        spec=spec.to_dict(),
        spec_id=spec.spec_id,
        ticker=_ticker(bars, spec.data),
        strategy=plan.strategy_cls.name,
        rows=result.all_rows(),
        grid_combinations=result.grid_combinations,
        valid_combinations=result.evaluated if valid is None else valid,
        evaluated=result.evaluated,
        diagnostics=result.diagnostics_dict(),
        winner=result.winner,
        bars=len(bars),
        duration_seconds=time.perf_counter() - started,
        warnings=result.warnings,
    )


def _backtest(
    spec: BacktestSpec, started: float, registry: DatasetRegistry | None, plugins: PluginPaths
) -> BacktestOutcome:
    report = run_backtest_spec(spec, registry=registry, plugins=plugins)
    signals = report.signals
    signalled = signals.long_entry | signals.long_exit | signals.short_entry | signals.short_exit
    return BacktestOutcome(
        spec=spec.to_dict(),
        spec_id=spec.spec_id,
        ticker=report.ticker[:TICKER_LENGTH],
        strategy=report.strategy.name,
        metrics=report.metrics,
        trades=report.result.trades,
        index=pd.DatetimeIndex(report.result.index),
        bars=len(report.bars),
        duration_seconds=time.perf_counter() - started,
        signals_generated=int(np.count_nonzero(signalled)),
    )


def _walkforward(
    spec: WalkForwardSpec,
    started: float,
    progress: ProgressCallback | None,
    cancel: Cancel | None,
    workers: int | None,
    registry: DatasetRegistry | None,
    plugins: PluginPaths,
) -> WalkForwardOutcome:
    result = run_walkforward(
        spec,
        progress=progress,
        cancel=cancel,
        workers=workers,
        registry=registry,
        plugins=plugins,
    )
    last = result.windows[-1].window.test_end if result.windows else 0
    return WalkForwardOutcome(
        result=result.to_json(),
        evaluated=sum(w.evaluated for w in result.windows),
        bars=last + result.unused_bars,
        duration_seconds=time.perf_counter() - started,
    )


def _metrics(duration: float, combinations: int, bars: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "duration_seconds": round(duration, 6),
        "combinations_tested": combinations,
        "bars": bars,
    }
    if duration > 0:
        out["combinations_per_second"] = round(combinations / duration, 3)
    return out


def _ticker(bars: pd.DataFrame, data: str) -> str:
    """The dataset's ticker, else the data file's name without suffix."""
    ticker = str(bars.attrs.get("ticker") or Path(data).stem or data)
    return ticker[:TICKER_LENGTH]


def _job_type(job_type: str) -> str:
    kind = str(getattr(job_type, "value", job_type))
    if kind not in JOB_TYPES:
        raise UnknownJobType(
            f"unknown job type {kind!r}",
            fix=f"use one of: {', '.join(JOB_TYPES)}",
            field="type",
        )
    return kind
