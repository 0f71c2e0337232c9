"""tradesweep.sweep: parameter spaces, evaluation of every combination, search (grid, random,
Bayesian), ranking, overfitting diagnostics and walk-forward analysis.

Usage::

    from tradesweep.specs import SweepSpec
    from tradesweep.sweep import run_sweep

    spec = SweepSpec.from_dict({"data": "GOOGL", "strategy": "sma_crossover",
                                "ranges": {"fast": "5:50:5", "slow": "20:200:10"},
                                "preset": "standard"})
    result = run_sweep(spec)
    result.results.head(), result.to_json(top=10)

See docs/sweeps.md.
"""

from tradesweep.sweep.diagnostics import (
    PBO,
    DeflatedSharpe,
    Diagnostics,
    ReturnMoments,
    Stability,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    parameter_stability,
    probability_of_backtest_overfitting,
    return_moments,
)
from tradesweep.sweep.evaluate import (
    FUSED_STRATEGIES,
    METRIC_COLUMNS,
    BlockStats,
    EvaluationResult,
    evaluate,
)
from tradesweep.sweep.preset import Preset, PresetError, builtin_presets, load_preset
from tradesweep.sweep.progress import ProgressInfo, SweepCancelled
from tradesweep.sweep.ranking import OBJECTIVES, composite_score, rank
from tradesweep.sweep.runner import SweepPlan, SweepResult, plan_sweep, run_sweep, sweep_bars
from tradesweep.sweep.search import BayesReport
from tradesweep.sweep.space import (
    Combinations,
    ParameterSpace,
    Range,
    Values,
    parse_range,
    parse_ranges,
)
from tradesweep.sweep.walkforward import (
    WalkForwardResult,
    Window,
    WindowResult,
    make_windows,
    run_walkforward,
)

__all__ = [
    "FUSED_STRATEGIES",
    "METRIC_COLUMNS",
    "OBJECTIVES",
    "PBO",
    "BayesReport",
    "BlockStats",
    "Combinations",
    "DeflatedSharpe",
    "Diagnostics",
    "EvaluationResult",
    "ParameterSpace",
    "Preset",
    "PresetError",
    "ProgressInfo",
    "Range",
    "ReturnMoments",
    "Stability",
    "SweepCancelled",
    "SweepPlan",
    "SweepResult",
    "Values",
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "builtin_presets",
    "composite_score",
    "deflated_sharpe_ratio",
    "evaluate",
    "expected_max_sharpe",
    "load_preset",
    "make_windows",
    "parameter_stability",
    "parse_range",
    "parse_ranges",
    "plan_sweep",
    "probability_of_backtest_overfitting",
    "rank",
    "return_moments",
    "run_sweep",
    "run_walkforward",
    "sweep_bars",
]
