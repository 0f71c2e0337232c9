"""Overfitting diagnostics for a sweep's winner: the Deflated Sharpe Ratio, parameter stability
and the Probability of Backtest Overfitting (CSCV).

Each is a pure function returning a small frozen dataclass whose ``to_dict()`` is JSON-safe: a
value that is undefined is ``None`` and ``reason`` says why. Formulas are in the docstrings and
in ``docs/sweeps.md`` ("Overfitting diagnostics").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from tradesweep.errors import SettingsError
from tradesweep.sweep.diagnostics_nb import cscv_logits_nb

EULER_GAMMA = 0.5772156649015329
DEFAULT_BLOCKS = 16
_NORMAL = NormalDist()


def _json(x: Any) -> Any:
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, tuple | list):
        return [_json(v) for v in x]
    return x


def _fields_to_dict(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _json(v) for k, v in vars(obj).items() if k not in skip}


# ---- Deflated Sharpe Ratio ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnMoments:
    """Per-period Sharpe ratio (mean / sample std), skewness and (non-excess) kurtosis of one
    return series, and its length."""

    sharpe: float
    skewness: float
    kurtosis: float
    n_observations: int


def return_moments(returns: np.ndarray | pd.Series) -> ReturnMoments:
    """``sharpe = mean / std(ddof=1)``; ``skewness = m3 / m2^1.5`` and ``kurtosis = m4 / m2^2``
    with central moments ``m_k = mean((r - mean)^k)`` (3.0 for a normal). NaN returns are
    dropped; NaN where undefined (fewer than 2 returns, or no variation)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[~np.isnan(r)]
    n = int(r.shape[0])
    if n < 2:
        return ReturnMoments(math.nan, math.nan, math.nan, n)
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    if not m2 > 0:
        return ReturnMoments(math.nan, math.nan, math.nan, n)
    return ReturnMoments(
        sharpe=float(r.mean() / r.std(ddof=1)),
        skewness=float(np.mean(d**3) / m2**1.5),
        kurtosis=float(np.mean(d**4) / m2**2),
        n_observations=n,
    )


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """``SR0 = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, g the
    Euler-Mascheroni constant: the Sharpe ratio the best of N skill-less trials is expected to
    reach. 0.0 for N = 1 (no selection) and for V = 0 (all trials alike)."""
    if n_trials <= 1 or sharpe_variance <= 0:
        return 0.0
    return math.sqrt(sharpe_variance) * (
        (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n_trials)
        + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (n_trials * math.e))
    )


@dataclass(frozen=True)
class DeflatedSharpe:
    """The Deflated Sharpe Ratio (a probability in [0, 1]) and its inputs."""

    dsr: float | None
    sr0: float | None
    sharpe: float
    n_trials: int
    sharpe_variance: float
    n_observations: int
    skewness: float
    kurtosis: float
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_to_dict(self)


def deflated_sharpe_ratio(
    sharpe: float,
    n_trials: int,
    sharpe_variance: float,
    n_observations: int,
    skewness: float = 0.0,
    kurtosis: float = 3.0,
) -> DeflatedSharpe:
    """Deflated Sharpe Ratio (Bailey & López de Prado 2014)::

        DSR = Phi((SR - SR0) * sqrt(T - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2))

    ``sharpe`` SR: the best trial's per-period (not annualised) Sharpe ratio; ``n_trials`` N;
    ``sharpe_variance`` V: variance of the N trials' per-period Sharpe ratios; ``n_observations``
    T: returns behind SR; ``skewness`` g3 and ``kurtosis`` g4 (non-excess, 3 for a normal) of
    those returns. SR0 is :func:`expected_max_sharpe`. With N = 1 or V = 0, SR0 = 0 and the DSR
    is the Probabilistic Sharpe Ratio against 0."""
    inputs = (sharpe, n_trials, sharpe_variance, n_observations, skewness, kurtosis)

    def undefined(reason: str, sr0: float | None = None) -> DeflatedSharpe:
        return DeflatedSharpe(None, sr0, *inputs, reason=reason)

    if isinstance(n_trials, bool) or not (isinstance(n_trials, int | np.integer) and n_trials >= 1):
        raise SettingsError(f"n_trials must be a positive integer, got {n_trials!r}")
    if not all(math.isfinite(x) for x in (sharpe, sharpe_variance, skewness, kurtosis)):
        return undefined("the Sharpe ratio, its variance, skewness or kurtosis is not finite")
    if sharpe_variance < 0:
        raise SettingsError(f"sharpe_variance must be >= 0, got {sharpe_variance!r}")
    sr0 = expected_max_sharpe(int(n_trials), sharpe_variance)
    if n_observations < 2:
        return undefined("needs at least 2 return observations", sr0)
    spread = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if not spread > 0:
        return undefined("1 - skewness*SR + (kurtosis-1)/4*SR^2 is not positive", sr0)
    z = (sharpe - sr0) * math.sqrt(n_observations - 1) / math.sqrt(spread)
    return DeflatedSharpe(_NORMAL.cdf(z), sr0, *inputs)


# ---- parameter stability ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stability:
    """The winner's objective against the mean over its valid grid neighbours."""

    winner: int
    winner_value: float
    neighbour_mean: float | None
    ratio: float | None
    neighbours: tuple[int, ...]
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _fields_to_dict(self)


def parameter_stability(
    objective: pd.Series | Mapping[int, float],
    neighbours: Callable[[int], Iterable[int]] | Mapping[int, Iterable[int]],
    winner: int | None = None,
) -> Stability:
    """``neighbour_mean`` = mean objective over the winner's neighbours that have a finite
    value; ``ratio = neighbour_mean / winner_value`` (only for a positive winner value).

    ``objective`` is keyed by grid index (combinations not evaluated are simply absent);
    ``neighbours`` maps a grid index to its neighbours' (e.g. ``ParameterSpace.neighbours``);
    ``winner`` defaults to the index with the highest finite objective (lowest index on a tie).
    A ratio near 1 is a plateau; far below 1 a lone spike."""
    values = pd.Series(objective, dtype="float64").astype(np.float64)
    finite = values[np.isfinite(values.to_numpy())]
    if winner is None:
        if finite.empty:
            raise SettingsError("parameter stability needs at least one finite objective value")
        best = finite.to_numpy().max()
        winner = int(finite.index[finite.to_numpy() == best].min())
    winner_value = float(values.get(winner, math.nan))
    around = neighbours[winner] if isinstance(neighbours, Mapping) else neighbours(winner)
    used = tuple(sorted(int(i) for i in around if int(i) in finite.index))
    if not used:
        return Stability(
            winner, winner_value, None, None, (), "the winner has no evaluated valid neighbour"
        )
    mean = float(finite.loc[list(used)].mean())
    if not (math.isfinite(winner_value) and winner_value > 0):
        return Stability(
            winner, winner_value, mean, None, used, "ratio needs a positive winner value"
        )
    return Stability(winner, winner_value, mean, mean / winner_value, used)


# ---- Probability of Backtest Overfitting (CSCV) ------------------------------------------------


def cscv_splits(n_blocks: int, max_splits: int | None = None, seed: int | None = 0) -> np.ndarray:
    """In-sample halves of the CSCV splits as a (n_splits, n_blocks) bool array: every way to
    choose ``n_blocks / 2`` blocks (C(16, 8) = 12,870 for 16 blocks), in lexicographic order; or
    ``max_splits`` of them drawn without replacement with ``seed`` when there are more."""
    if isinstance(n_blocks, bool) or not (
        isinstance(n_blocks, int) and n_blocks >= 2 and n_blocks % 2 == 0
    ):
        raise SettingsError(
            f"CSCV needs an even number of blocks >= 2, got {n_blocks!r}",
            fix=f"use e.g. {DEFAULT_BLOCKS} blocks",
            field="n_blocks",
        )
    if max_splits is not None and not (isinstance(max_splits, int) and max_splits >= 1):
        raise SettingsError(
            f"max_splits must be a positive integer, got {max_splits!r}", field="max_splits"
        )
    half = n_blocks // 2
    total = math.comb(n_blocks, half)
    rng = np.random.default_rng(seed)
    if max_splits is None or total <= max_splits:
        if total > 5_000_000:
            raise SettingsError(
                f"{n_blocks} blocks give {total:,} CSCV splits",
                fix="set max_splits (e.g. 20000) or use fewer blocks",
                field="max_splits",
            )
        chosen = None
    elif total <= 5_000_000:
        chosen = np.sort(rng.choice(total, size=max_splits, replace=False))
    else:
        return _random_splits(n_blocks, max_splits, rng)
    out = np.zeros((total, n_blocks), dtype=np.bool_)
    for k, blocks in enumerate(itertools.combinations(range(n_blocks), half)):
        out[k, list(blocks)] = True
    return out if chosen is None else out[chosen]


def _random_splits(n_blocks: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct random halves, for block counts too large to enumerate."""
    seen: dict[bytes, np.ndarray] = {}
    while len(seen) < n:
        row = np.zeros(n_blocks, dtype=np.bool_)
        row[rng.permutation(n_blocks)[: n_blocks // 2]] = True
        seen.setdefault(row.tobytes(), row)
    return np.array(list(seen.values()))


def _group_masks(splits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the blocks into groups of at most 8 and express each split's in-sample and
    out-of-sample half as one bit mask per group (the kernel's input)."""
    n_blocks = splits.shape[1]
    n_groups = -(-n_blocks // 8)
    edges = np.array([g * n_blocks // n_groups for g in range(n_groups + 1)], dtype=np.int64)
    first, size = edges[:-1], np.diff(edges)
    in_masks = np.stack(
        [
            splits[:, f : f + s].astype(np.int64) @ (1 << np.arange(s, dtype=np.int64))
            for f, s in zip(first, size, strict=True)
        ],
        axis=1,
    )
    out_masks = ((1 << size)[None, :] - 1) ^ in_masks
    return first, size, np.ascontiguousarray(in_masks), np.ascontiguousarray(out_masks)


@dataclass(frozen=True)
class PBO:
    """Probability of Backtest Overfitting: the share of CSCV splits whose in-sample winner
    ranks at or below the out-of-sample median (logit <= 0)."""

    pbo: float | None
    n_blocks: int
    n_combinations: int
    n_splits: int
    logit_median: float | None = None
    logits: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; the per-split ``logits`` are left out (plot them from the object)."""
        return _fields_to_dict(self, skip=("logits",))


def probability_of_backtest_overfitting(
    sum_r: np.ndarray,
    sum_r2: np.ndarray,
    count: np.ndarray,
    max_splits: int | None = None,
    seed: int | None = 0,
) -> PBO:
    """PBO by Combinatorially Symmetric Cross-Validation (Bailey, Borwein, López de Prado, Zhu
    2015) from per-block statistics: ``sum_r``, ``sum_r2``, ``count`` of shape (S blocks, N
    combinations) hold each combination's sum of returns, sum of squared returns and number of
    returns in each block of bars.

    For every split of the S blocks into two halves (:func:`cscv_splits`): the Sharpe ratio
    ``mean / std`` of each combination in each half from the summed stats, the in-sample best,
    its out-of-sample rank r (1 = worst, ties averaged), ``w = r / (N + 1)``, the logit
    ``l = ln(w / (1 - w))``. ``PBO = #{l <= 0} / #splits``."""
    stats = [np.ascontiguousarray(a, dtype=np.float64) for a in (sum_r, sum_r2, count)]
    if stats[0].ndim != 2 or any(a.shape != stats[0].shape for a in stats):
        raise ValueError(
            "sum_r, sum_r2 and count must be 2-D arrays of one shape (n_blocks, n_combinations)"
        )
    if not all(np.isfinite(a).all() for a in stats):
        raise ValueError("block statistics must be finite")
    n_blocks, n = stats[0].shape
    splits = cscv_splits(n_blocks, max_splits, seed)
    if n < 2:
        return PBO(None, n_blocks, n, 0, reason="PBO needs at least 2 combinations")
    first, size, in_masks, out_masks = _group_masks(splits)
    logits = cscv_logits_nb(stats[0], stats[1], stats[2], first, size, in_masks, out_masks)
    return PBO(
        pbo=float(np.mean(logits <= 0.0)),
        n_blocks=n_blocks,
        n_combinations=n,
        n_splits=int(splits.shape[0]),
        logit_median=float(np.median(logits)),
        logits=logits,
    )


# ---- the bundle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostics:
    """The overfitting diagnostics of one sweep; a part left as None was not computed."""

    deflated_sharpe: DeflatedSharpe | None = None
    stability: Stability | None = None
    pbo: PBO | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: no NaN or Infinity, ``None`` with a ``reason`` instead."""
        return {
            name: part.to_dict() if part is not None else {"reason": "not computed"}
            for name, part in (
                ("deflated_sharpe", self.deflated_sharpe),
                ("stability", self.stability),
                ("pbo", self.pbo),
            )
        }
