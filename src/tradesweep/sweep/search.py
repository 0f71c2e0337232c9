"""Which combinations a sweep evaluates: the whole valid grid, a seeded random sample, or the
trials a Bayesian optimiser (Optuna's TPE sampler) asks for.

Grid and random search pick every combination up front; Bayesian search alternates between
asking Optuna for a batch of trials and evaluating them, so it takes an ``evaluate_batch``
callback. The rules (duplicates, invalid combinations, when it stops) are in
``docs/sweeps.md`` ("Running sweeps").
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from tradesweep.sweep.space import Combinations, ParameterSpace

BAYES_BATCH = 16
"""Trials evaluated together in one call of the evaluator; the first batch is Optuna's random
start-up (10 trials), later ones are TPE suggestions with the 'constant liar' for pending
trials, so a batch is spread out rather than ten copies of one guess."""
MAX_ASKS_PER_TRIAL = 20
"""Bayesian search gives up after ``MAX_ASKS_PER_TRIAL * trials + 100`` asks (invalid and
repeated suggestions included), evaluating fewer than ``trials`` combinations."""

BatchEvaluator = Callable[[Combinations], np.ndarray]
"""Evaluates combinations and returns one objective value each (NaN: not rankable)."""


def grid_combinations(space: ParameterSpace) -> Combinations:
    """Every valid combination, in grid order (refused above ``max_combinations``)."""
    return space.valid_combinations()


def random_combinations(space: ParameterSpace, trials: int, seed: int) -> Combinations:
    """``trials`` distinct valid combinations drawn uniformly with ``seed``, in grid order (all
    valid combinations when there are no more than ``trials``)."""
    return space.sample(trials, seed)


@dataclass(frozen=True)
class BayesReport:
    """What a Bayesian search did: Optuna asks, suggestions that broke a rule (``invalid``),
    suggestions of an already evaluated combination (``repeats``), distinct combinations
    evaluated, the best value the optimiser was told (None: every trial was pruned) and why it
    stopped when that is not ``trials`` evaluations (``note``)."""

    asks: int
    invalid: int
    repeats: int
    evaluated: int
    best_value: float | None = None
    note: str | None = None


def bayes_search(
    space: ParameterSpace,
    trials: int,
    seed: int,
    evaluate_batch: BatchEvaluator,
    *,
    batch_size: int = BAYES_BATCH,
    cancelled: Callable[[], None] | None = None,
) -> BayesReport:
    """Maximise the objective with Optuna's TPE sampler (seeded, multivariate) over the grid.

    Each swept parameter is suggested as its *position* on its axis (``suggest_int`` over
    ``0 .. n-1``), so every suggestion is a grid point, ranges and lists alike. A suggestion
    that breaks the strategy's rules or the constraint is told to Optuna as PRUNED (TPE puts
    pruned trials with the worst) and is not evaluated; a suggestion already evaluated is told
    its known value and not evaluated again; an evaluated combination with a NaN objective
    (too few trades, undefined) is told as PRUNED too. When the space has no more than
    ``trials`` valid combinations they are all evaluated in one batch, as a grid search would.
    ``cancelled`` is called between batches (it raises to stop)."""
    import optuna

    if space.grid_size <= space.max_combinations and space.valid_count <= trials:
        every = space.valid_combinations()
        values = np.asarray(evaluate_batch(every), dtype=np.float64)
        small = (
            f"the space has only {len(every)} valid combinations (<= {trials} trials); "
            "all were evaluated"
        )
        return BayesReport(0, 0, 0, len(every), _best(values.tolist()), small)

    swept = [(k, axis) for k, axis in enumerate(space.axes) if axis.size > 1]
    known: dict[int, float] = {}
    asks = invalid = repeats = 0
    max_asks = MAX_ASKS_PER_TRIAL * trials + 100
    with _quiet_optuna():
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        while len(known) < trials and asks < max_asks:
            if cancelled is not None:
                cancelled()
            wanted = min(batch_size, trials - len(known))
            fresh: list[int] = []
            pending: list[tuple[optuna.trial.Trial, int]] = []
            while len(fresh) < wanted and asks < max_asks:
                trial = study.ask()
                asks += 1
                position = [0] * len(space.axes)
                for k, axis in swept:
                    position[k] = trial.suggest_int(axis.name, 0, axis.size - 1)
                index = int(np.ravel_multi_index(position, space.shape)) if position else 0
                if not bool(space.is_valid([index])[0]):
                    invalid += 1
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                elif index in known:
                    repeats += 1
                    _tell(study, trial, known[index])
                else:
                    if index in fresh:
                        repeats += 1
                    else:
                        fresh.append(index)
                    pending.append((trial, index))
            if not fresh:
                break
            values = np.asarray(evaluate_batch(space.combinations(fresh)), dtype=np.float64)
            known.update(zip(fresh, values.tolist(), strict=True))
            for trial, index in pending:
                _tell(study, trial, known[index])
    note: str | None = None
    if len(known) < trials:
        note = (
            f"stopped after {asks} suggestions with {len(known)} of {trials} trials evaluated: "
            f"the optimiser kept proposing evaluated ({repeats}) or invalid ({invalid}) "
            "combinations"
        )
    return BayesReport(asks, invalid, repeats, len(known), _best(list(known.values())), note)


def _best(values: list[float]) -> float | None:
    finite = [v for v in values if np.isfinite(v)]
    return max(finite) if finite else None


def _tell(study: object, trial: object, value: float) -> None:
    import optuna

    assert isinstance(study, optuna.Study)
    if np.isfinite(value):
        study.tell(trial, float(value))  # type: ignore[arg-type]
    else:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)  # type: ignore[arg-type]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial at INFO on stderr; keep it to warnings while we search."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
