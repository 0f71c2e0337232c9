"""``run_sweep``: one :class:`~tradesweep.specs.SweepSpec` in, one ranked
:class:`SweepResult` with its overfitting diagnostics out.

The steps, each documented in ``docs/sweeps.md`` ("Running sweeps"):

1. :func:`plan_sweep` resolves the strategy and builds the parameter space: every range is
   checked against the schema and a grid search above ``max_combinations`` is refused, all
   before any data is loaded;
2. the bars are loaded once;
3. the search picks combinations (grid, random, or Bayesian in batches) and
   :func:`~tradesweep.sweep.evaluate.evaluate` backtests them;
4. each row gets the composite ``score``; rows are ranked by the objective, with those below
   ``min_trades`` kept but unranked;
5. the winner (rank 1) is backtested once more with :func:`~tradesweep.engine.run_backtest` for
   its return moments, which feed the Deflated Sharpe Ratio; parameter stability (grid only)
   and the PBO (grid and random) complete the diagnostics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.data import DatasetRegistry, load
from tradesweep.data.window import window_bars
from tradesweep.engine import EngineSettings, run_backtest
from tradesweep.errors import ParameterError
from tradesweep.metrics import bar_returns, infer_periods_per_year, to_json_safe
from tradesweep.metrics.returns import per_bar_risk_free
from tradesweep.specs import SweepSpec
from tradesweep.strategies import Strategy, strategy_class
from tradesweep.strategies.registry import PluginPaths, instantiate
from tradesweep.sweep.axes import split_row
from tradesweep.sweep.diagnostics import (
    DEFAULT_BLOCKS,
    Diagnostics,
    deflated_sharpe_ratio,
    parameter_stability,
    probability_of_backtest_overfitting,
    return_moments,
)
from tradesweep.sweep.evaluate import EvaluationResult, evaluate
from tradesweep.sweep.per_combination import combination_settings
from tradesweep.sweep.progress import (
    Cancel,
    ProgressCallback,
    ProgressInfo,
    SweepCancelled,
    announce,
    as_cancel_check,
)
from tradesweep.sweep.ranking import composite_score, rank
from tradesweep.sweep.search import (
    BayesReport,
    bayes_search,
    grid_combinations,
    random_combinations,
)
from tradesweep.sweep.space import Combinations, ParameterSpace

PBO_WORK = 20_000 * 12_870
"""Combinations x CSCV splits the PBO computes exactly (about 2.5 s of one core); above it a
seeded sample of ``max(PBO_MIN_SPLITS, PBO_WORK // combinations)`` splits is used."""
PBO_MIN_SPLITS = 1_000
COUNT_METRICS = frozenset({"bars", "total_trades", "stop_and_target_same_bar"})
MIN_BARS_PER_BLOCK = 2
"""The PBO's 16 blocks need at least this many bars each; shorter data skip the PBO."""


@dataclass(frozen=True, eq=False)
class SweepPlan:
    """A spec resolved against its strategy, before any data: the strategy class, the validated
    parameter space and the engine settings (a declarative strategy's execution settings are
    laid over them per combination,
    :func:`~tradesweep.sweep.per_combination.combination_settings`)."""

    spec: SweepSpec
    strategy_cls: type[Strategy]
    space: ParameterSpace
    settings: EngineSettings

    def strategy(self, params: Mapping[str, Any]) -> Strategy:
        """The strategy bound to ``params`` (setting axes left out), in the spec's indicator
        convention."""
        own, _ = split_row(params, self.space.setting_names)
        return instantiate(self.strategy_cls, own, self.spec.indicator_convention)

    def backtest_settings(self, params: Mapping[str, Any]) -> tuple[Strategy, EngineSettings]:
        """The strategy and the engine settings one combination (a result row's ``params``)
        runs with: the spec's settings, the row's setting axes, then the strategy's execution
        defaults in the fields neither gives (:func:`combination_settings`)."""
        strategy = self.strategy(params)
        _, values = split_row(params, self.space.setting_names)
        return strategy, combination_settings(self.settings, strategy, values)


@dataclass(frozen=True, eq=False)
class SweepResult:
    """One sweep's rows, counts and diagnostics.

    ``results``: one row per evaluated combination: ``grid_index``, one column per strategy
    parameter (schema order) and per setting axis (``stop_loss``, ``size``, ...: ``params``
    names them all), ``start`` and ``end`` of the bars tested (ISO 8601), every
    scalar metric (NaN where undefined), ``score``,
    ``below_min_trades`` and ``rank`` (nullable; 1 is best), ranked rows first.
    ``valid_combinations`` is None when the grid is too large to count. ``notes`` says why a
    diagnostic was not computed, or how a Bayesian search ended early; ``search`` is the
    Bayesian search's report (None for grid and random)."""

    spec: SweepSpec
    results: pd.DataFrame
    params: tuple[str, ...]
    swept: tuple[str, ...]
    grid_combinations: int
    valid_combinations: int | None
    evaluated: int
    elapsed_seconds: float
    diagnostics: Diagnostics
    path: str
    settings: EngineSettings
    periods_per_year: float | None
    notes: Mapping[str, str] = field(default_factory=dict)
    search: BayesReport | None = None

    @property
    def ranked(self) -> pd.DataFrame:
        """The ranked rows, best first."""
        return self.results[self.results["rank"].notna()]

    @property
    def winner(self) -> dict[str, int | float] | None:
        """The rank-1 parameters, or None when no row is ranked."""
        ranked = self.ranked
        if ranked.empty:
            return None
        return {name: _scalar(ranked.iloc[0][name]) for name in self.params}

    @property
    def unranked_reason(self) -> str:
        """Why a row is left unranked: ``fewer than 20 trades or an undefined score``."""
        return f"{_too_few(self.spec.min_trades)} or an undefined {self.spec.objective}"

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a reader of the answer must know: nothing was ranked, why, and the fix."""
        why = nothing_ranked(self.spec, self.results, more_bars="sweep over more bars")
        return () if why is None else (why,)

    @property
    def metric_columns(self) -> list[str]:
        fixed = {"grid_index", "score", "below_min_trades", "rank", *self.params}
        return [c for c in self.results.columns if c not in fixed]

    def diagnostics_dict(self) -> dict[str, Any]:
        """:meth:`Diagnostics.to_dict` with the reason of each part that was not computed."""
        out = self.diagnostics.to_dict()
        for part, reason in self.notes.items():
            if part in out and self._missing(part):
                out[part] = {"reason": reason}
        if "search" in self.notes:
            out["search_note"] = self.notes["search"]
        return to_json_safe(out)

    def _missing(self, part: str) -> bool:
        return getattr(self.diagnostics, part) is None

    def rows(self, top: int | None = None) -> list[dict[str, Any]]:
        """The first ``top`` ranked rows (all with None) as JSON-safe dicts."""
        ranked = self.ranked if top is None else self.ranked.head(top)
        metrics = self.metric_columns
        return [
            to_json_safe(
                {
                    "grid_index": int(row["grid_index"]),
                    "params": {name: _scalar(row[name]) for name in self.params},
                    "metrics": {key: _metric(key, row[key]) for key in metrics},
                    "score": _scalar(row["score"]),
                    "rank": int(row["rank"]),
                }
            )
            for _, row in ranked.iterrows()
        ]

    def all_rows(self) -> list[dict[str, Any]]:
        """Every evaluated row as a JSON-safe dict: the ranked ones best first, then the
        unranked ones (``rank`` None; ``below_min_trades`` tells why) in grid order. What a
        store keeps, so a user can see what the ranking left out."""
        unranked = self.results[self.results["rank"].isna()]
        frame = pd.concat([self.ranked, unranked.sort_values("grid_index")])
        metrics = self.metric_columns
        return [
            to_json_safe(
                {
                    "grid_index": int(row["grid_index"]),
                    "params": {name: _scalar(row[name]) for name in self.params},
                    "metrics": {key: _metric(key, row[key]) for key in metrics},
                    "score": _scalar(row["score"]),
                    "rank": None if pd.isna(row["rank"]) else int(row["rank"]),
                    "below_min_trades": bool(row["below_min_trades"]),
                }
            )
            for _, row in frame.iterrows()
        ]

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        """``{"spec_id", "spec", "results": [top ranked rows], "grid_combinations",
        "valid_combinations", "evaluated", "elapsed_seconds", "path", "diagnostics", "warnings"}``;
        ``top`` defaults to ``spec.top``. Passes ``json.dumps(..., allow_nan=False)``."""
        return to_json_safe(
            {
                "spec_id": self.spec.spec_id,
                "spec": self.spec.to_dict(),
                "results": self.rows(self.spec.top if top is None else top),
                "grid_combinations": self.grid_combinations,
                "valid_combinations": self.valid_combinations,
                "evaluated": self.evaluated,
                "elapsed_seconds": self.elapsed_seconds,
                "path": self.path,
                "diagnostics": self.diagnostics_dict(),
                "warnings": list(self.warnings),
            }
        )


def plan_sweep(spec: SweepSpec, *, plugins: PluginPaths = None) -> SweepPlan:
    """Resolve the strategy, build the parameter space (every range checked against the
    schema, the constraint parsed) and refuse a grid search above ``max_combinations``. No
    data is read. ``plugins`` resolve a plugin strategy's name when the spec lists none; the
    built-ins' default overrides are those the spec records (:meth:`SweepSpec.with_defaults`)."""
    strategy_cls = strategy_class(
        spec.strategy, plugins=list(spec.plugins) or plugins, defaults=spec.defaults_override()
    )
    space = ParameterSpace(
        strategy_cls, spec.ranges, spec.constraint, spec.max_combinations, settings=spec.settings
    )
    if spec.search == "grid":
        space.check_size()
    return SweepPlan(spec, strategy_cls, space, spec.settings)


def run_sweep(
    spec: SweepSpec,
    *,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    registry: DatasetRegistry | None = None,
    plugins: PluginPaths = None,
) -> SweepResult:
    """Run ``spec``: plan it (no data read until every input is valid), load the bars, search,
    evaluate, rank and diagnose. ``progress`` gets a :class:`ProgressInfo` as batches finish;
    ``cancel`` (a callable or an Event) stops the sweep with :class:`SweepCancelled`;
    ``workers`` goes to :func:`~tradesweep.sweep.evaluate.evaluate`. ``registry`` resolves
    the ticker (None: the platform's data dir); ``plugins`` go to
    :func:`plan_sweep`."""
    plan = plan_sweep(spec, plugins=plugins)
    bars = window_bars(
        load(spec.data, registry=registry), spec.data, spec.timeframe, spec.start, spec.end
    )
    return sweep_bars(plan, bars, progress=progress, cancel=cancel, workers=workers)


def sweep_bars(
    plan: SweepPlan,
    bars: pd.DataFrame,
    *,
    periods_per_year: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
    workers: int | None = None,
    diagnose: bool = True,
) -> SweepResult:
    """The sweep of ``plan`` over ``bars``. Walk-forward calls this on each training window,
    passing the full data's ``periods_per_year`` so every window annualises alike, and
    ``diagnose=False``: a window only needs its winner, not the DSR, stability or PBO."""
    spec, space = plan.spec, plan.space
    started = time.perf_counter()
    ppy = periods_per_year or spec.periods_per_year or _infer_ppy(bars)
    run = _Evaluator(plan, bars, ppy, progress, cancel, workers, blocks=diagnose)
    notes: dict[str, str] = {}
    report = None
    if spec.search == "grid":
        run(grid_combinations(space), total=None)
    elif spec.search == "random":
        run(random_combinations(space, int(spec.trials or 0), spec.seed), total=None)
    else:
        report = _bayes(plan, run)
        if report.note:
            notes["search"] = report.note
    frame = run.frame()
    run.cancelled()  # a cancel during the last chunk stops here, not after the diagnostics
    if diagnose:
        announce(progress, "diagnostics", len(frame), time.perf_counter() - started)
    ranked = rank(frame, spec.objective, spec.min_trades, params=space.names)
    ranked = ranked.reset_index(drop=True)
    if diagnose:
        diagnostics, reasons = _diagnostics(
            plan, bars, ranked, run.block_stats(), ppy, check=run.cancelled
        )
        notes.update(reasons)
    else:
        diagnostics = Diagnostics()
        notes.update(dict.fromkeys(("deflated_sharpe", "stability", "pbo"), "not asked for"))
    valid = space.valid_count if space.grid_size <= space.max_combinations else None
    return SweepResult(
        spec=spec,
        results=ranked,
        params=space.names,
        swept=space.swept,
        grid_combinations=space.grid_size,
        valid_combinations=valid,
        evaluated=len(ranked),
        elapsed_seconds=time.perf_counter() - started,
        diagnostics=diagnostics,
        path=run.path,
        settings=plan.settings,
        periods_per_year=ppy,
        notes=notes,
        search=report,
    )


class _Evaluator:
    """Calls :func:`evaluate` on batches of combinations and keeps what comes back."""

    def __init__(
        self,
        plan: SweepPlan,
        bars: pd.DataFrame,
        ppy: float | None,
        progress: ProgressCallback | None,
        cancel: Cancel | None,
        workers: int | None,
        *,
        blocks: bool = True,
    ) -> None:
        self.plan, self.bars, self.ppy = plan, bars, ppy
        self.progress, self.cancel, self.workers = progress, cancel, workers
        self.parts: list[tuple[Combinations, EvaluationResult]] = []
        self.path = "none"
        enough = blocks and len(bars) >= MIN_BARS_PER_BLOCK * DEFAULT_BLOCKS
        self.n_blocks = DEFAULT_BLOCKS if enough else None
        self.started = time.perf_counter()

    def cancelled(self) -> None:
        if as_cancel_check(self.cancel)():
            done = sum(len(c) for c, _ in self.parts)
            raise SweepCancelled(f"sweep cancelled after {done} combinations", done=done)

    def __call__(self, combos: Combinations, *, total: int | None) -> EvaluationResult:
        """Evaluate ``combos``; with ``total`` (a Bayesian search's trials) progress counts the
        combinations of earlier batches too."""
        done_before = sum(len(c) for c, _ in self.parts)
        result = evaluate(
            self.bars,
            self.plan.strategy_cls,
            pd.DataFrame(combos.columns),
            self.plan.settings,
            periods_per_year=self.ppy,
            risk_free_rate=self.plan.spec.risk_free_rate,
            n_blocks=DEFAULT_BLOCKS
            if len(self.bars) >= MIN_BARS_PER_BLOCK * DEFAULT_BLOCKS
            else None,
            workers=self.workers,
            progress=self._progress(done_before, total),
            cancel=self.cancel,
            indicator_convention=self.plan.spec.indicator_convention,
        )
        if len(result.metrics) != len(combos):
            raise RuntimeError(
                f"evaluate returned {len(result.metrics)} rows for {len(combos)} combinations"
            )
        self.parts.append((combos, result))
        self.path = result.path
        return result

    def _progress(self, offset: int, total: int | None) -> ProgressCallback | None:
        if self.progress is None or total is None:
            return self.progress
        report, started = self.progress, self.started

        def shifted(info: ProgressInfo) -> None:
            done = offset + info.done
            elapsed = time.perf_counter() - started
            rate = done / elapsed if elapsed > 0 else 0.0
            eta = (total - done) / rate if rate > 0 else None
            report(ProgressInfo(done, total, elapsed, rate, eta))

        return shifted

    def frame(self) -> pd.DataFrame:
        """``grid_index``, parameters, metrics and ``score`` of every evaluated row; the
        window's ``start`` and ``end`` (ISO 8601, as ``compute_metrics`` gives them) are the
        same for every row and lead the metrics."""
        if not self.parts:
            raise ParameterError(
                "the search found no valid parameter combination to evaluate",
                fix="widen the ranges or relax the constraint",
                strategy=self.plan.strategy_cls.name,
            )
        pieces = []
        window = {"start": self.bars.index[0].isoformat(), "end": self.bars.index[-1].isoformat()}
        for combos, result in self.parts:
            piece = pd.DataFrame({"grid_index": combos.index, **combos.columns, **window})
            metrics = result.metrics.reset_index(drop=True)
            pieces.append(
                pd.concat([piece, metrics.drop(columns=piece.columns, errors="ignore")], axis=1)
            )
        frame = pd.concat(pieces, ignore_index=True)
        frame["score"] = _scores(frame)
        return frame

    def block_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        stats = [result.block_stats for _, result in self.parts]
        if not stats or any(s is None for s in stats):
            return None
        return (
            np.concatenate([s.sum_r for s in stats], axis=1),  # type: ignore[union-attr]
            np.concatenate([s.sum_r2 for s in stats], axis=1),  # type: ignore[union-attr]
            np.concatenate([s.count for s in stats], axis=1),  # type: ignore[union-attr]
        )


def _bayes(plan: SweepPlan, run: _Evaluator) -> BayesReport:
    spec = plan.spec
    trials = int(spec.trials or 0)

    def objective_of(combos: Combinations) -> np.ndarray:
        metrics = run(combos, total=trials).metrics.reset_index(drop=True)
        values = _scores(metrics) if spec.objective == "score" else _floats(metrics[spec.objective])
        return np.where(_floats(metrics["total_trades"]) >= spec.min_trades, values, np.nan)

    return bayes_search(plan.space, trials, spec.seed, objective_of, cancelled=run.cancelled)


def _diagnostics(
    plan: SweepPlan,
    bars: pd.DataFrame,
    ranked: pd.DataFrame,
    block_stats: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    ppy: float | None,
    *,
    check: Callable[[], None] = lambda: None,
) -> tuple[Diagnostics, dict[str, str]]:
    """The Deflated Sharpe ratio, parameter stability and PBO of a ranked sweep, with the
    reason of each part left out; ``check`` (raising on cancel) runs before each part."""
    spec, space = plan.spec, plan.space
    notes: dict[str, str] = {}
    has_winner = not ranked.empty and not pd.isna(ranked["rank"].iloc[0])
    no_winner = (
        f"no combination was ranked: every one has {_too_few(spec.min_trades)} or an "
        f"undefined {spec.objective}"
    )
    dsr = None
    check()
    if not has_winner:
        notes["deflated_sharpe"] = no_winner
    elif ppy is None:
        notes["deflated_sharpe"] = "needs at least 2 bars to annualise"
    else:
        winner = {name: _scalar(ranked.iloc[0][name]) for name in space.names}
        moments = return_moments(_winner_returns(plan, bars, winner, ppy))
        per_bar = _floats(ranked["sharpe_ratio"]) / math.sqrt(ppy)
        finite = per_bar[np.isfinite(per_bar)]
        variance = float(np.var(finite, ddof=1)) if finite.shape[0] >= 2 else 0.0
        dsr = deflated_sharpe_ratio(
            moments.sharpe,
            len(ranked),
            variance,
            moments.n_observations,
            moments.skewness,
            moments.kurtosis,
        )

    stability = None
    check()
    if spec.search != "grid":
        notes["stability"] = (
            "parameter stability needs the full grid around the winner; a "
            f"{'random' if spec.search == 'random' else 'Bayesian'} search leaves neighbours "
            "unevaluated"
        )
    elif not has_winner:
        notes["stability"] = no_winner
    else:
        eligible = ranked[ranked["rank"].notna()]
        values = pd.Series(
            _floats(eligible[spec.objective]),
            index=eligible["grid_index"].to_numpy(dtype=np.int64),
        )
        stability = parameter_stability(
            values, space.neighbours, winner=int(ranked["grid_index"].iloc[0])
        )

    pbo = None
    check()
    if spec.search == "bayes":
        notes["pbo"] = (
            "not computed for a Bayesian search: its trials were chosen by their full-sample "
            "results, so the in-sample / out-of-sample halves are not independent of the choice"
        )
    elif block_stats is None:
        notes["pbo"] = (
            f"needs at least {MIN_BARS_PER_BLOCK * DEFAULT_BLOCKS} bars "
            f"({DEFAULT_BLOCKS} blocks of {MIN_BARS_PER_BLOCK})"
        )
    else:
        n = block_stats[0].shape[1]
        splits = math.comb(DEFAULT_BLOCKS, DEFAULT_BLOCKS // 2)
        max_splits = None if n * splits <= PBO_WORK else max(PBO_MIN_SPLITS, PBO_WORK // n)
        pbo = probability_of_backtest_overfitting(
            *block_stats, max_splits=max_splits, seed=spec.seed
        )
    return Diagnostics(dsr, stability, pbo), notes


def _winner_returns(
    plan: SweepPlan, bars: pd.DataFrame, params: dict[str, Any], ppy: float
) -> np.ndarray:
    """The winner's per-bar returns in excess of the risk-free rate, from one plain backtest."""
    strategy, settings = plan.backtest_settings(params)
    convention = plan.spec.indicator_convention
    result = run_backtest(bars, strategy.signals(bars), settings, indicator_convention=convention)
    excess = per_bar_risk_free(plan.spec.risk_free_rate, ppy)
    return bar_returns(result.equity, settings.cash) - excess


def _floats(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)


def _scores(metrics: pd.DataFrame) -> np.ndarray:
    """The composite score of each row (:func:`~tradesweep.sweep.ranking.composite_score`)."""
    return np.asarray(
        composite_score(
            _floats(metrics["sharpe_ratio"]),
            _floats(metrics["max_drawdown_pct"]),
            _floats(metrics["total_trades"]),
        ),
        dtype=np.float64,
    )


def _infer_ppy(bars: pd.DataFrame) -> float | None:
    return infer_periods_per_year(bars.index) if len(bars) >= 2 else None


def nothing_ranked(
    spec: SweepSpec, results: pd.DataFrame, *, more_bars: str, where: str = ""
) -> str | None:
    """``no combination was ranked{where}: ...``: why no row of ``results`` (a sweep's
    evaluated rows) is ranked and what to change (``more_bars``: how to give the strategy more
    bars); None when a row is ranked or none was evaluated."""
    if results.empty or results["rank"].notna().any():
        return None
    if not bool(results["below_min_trades"].all()):
        return (
            f"no combination was ranked{where}: each made {_too_few(spec.min_trades)} or has an "
            f"undefined {spec.objective}; choose another objective (e.g. score)"
        )
    trades = pd.to_numeric(results["total_trades"], errors="coerce")
    most = int(trades.max()) if trades.notna().any() else 0
    if most == 0:
        return (
            f"no combination was ranked{where}: none of the {len(results):,} made a trade; "
            f"{more_bars} or sweep shorter periods"
        )
    return (
        f"no combination was ranked{where}: the most trades any of the {len(results):,} made was "
        f"{most}, below min_trades={spec.min_trades}; lower min_trades (e.g. {most}) or "
        f"{more_bars}"
    )


def _too_few(min_trades: int) -> str:
    """``no trades`` / ``fewer than 20 trades``: why a row is below ``min_trades``."""
    return "no trades" if min_trades <= 1 else f"fewer than {min_trades} trades"


def _metric(key: str, x: Any) -> Any:
    """A metric value for JSON: counts as int (as ``compute_metrics`` gives them)."""
    value = _scalar(x)
    if key in COUNT_METRICS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _scalar(x: Any) -> Any:
    if x is None or x is pd.NA:
        return None
    item = getattr(x, "item", None)
    value = item() if callable(item) else x
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
