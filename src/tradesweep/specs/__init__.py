"""One frozen spec per kind of job, all on one base (:class:`Spec`): ``from_dict`` with a
did-you-mean for unknown fields, canonical JSON and a ``spec_id`` hashed from it.

Usage::

    from tradesweep.specs import BacktestSpec, SweepSpec

    spec = BacktestSpec.from_dict({"data": "GOOGL", "strategy": "sma_crossover",
                                   "params": {"fast": 10, "slow": 20}})
    spec.spec_id, spec.to_dict(), spec.replace(params={"fast": 5, "slow": 20})

The runs live with their engines: :func:`tradesweep.services.backtest.run_backtest_spec`,
:func:`tradesweep.sweep.run_sweep`, :func:`tradesweep.sweep.run_walkforward`.
"""

from tradesweep.specs.backtest import BacktestSpec, InsufficientBars, SpecError
from tradesweep.specs.base import SPEC_ID_LENGTH, Spec
from tradesweep.specs.sweep import (
    DEFAULT_MAX_COMBINATIONS,
    DEFAULT_MIN_TRADES,
    DEFAULT_TOP,
    DEFAULT_TRIALS,
    SEARCHES,
    SearchName,
    SweepSpec,
    SweepSpecError,
    normalise_ranges,
)
from tradesweep.specs.walkforward import MAX_WINDOW_BARS, WALKFORWARD_KEYS, WalkForwardSpec

SPEC_CLASSES: dict[str, type[Spec]] = {
    cls.kind: cls for cls in (BacktestSpec, SweepSpec, WalkForwardSpec)
}
"""Each spec class by its ``kind`` (the job type it describes)."""

__all__ = [
    "DEFAULT_MAX_COMBINATIONS",
    "DEFAULT_MIN_TRADES",
    "DEFAULT_TOP",
    "DEFAULT_TRIALS",
    "MAX_WINDOW_BARS",
    "SEARCHES",
    "SPEC_CLASSES",
    "SPEC_ID_LENGTH",
    "WALKFORWARD_KEYS",
    "BacktestSpec",
    "InsufficientBars",
    "SearchName",
    "Spec",
    "SpecError",
    "SweepSpec",
    "SweepSpecError",
    "WalkForwardSpec",
    "normalise_ranges",
]
