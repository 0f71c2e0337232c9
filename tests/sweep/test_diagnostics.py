"""Overfitting diagnostics: Deflated Sharpe Ratio, parameter stability, PBO by CSCV."""

from __future__ import annotations

import json
import math
import time
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tradesweep.errors import ParameterError, SettingsError
from tradesweep.strategies.base import Param, Strategy
from tradesweep.sweep.diagnostics import (
    PBO,
    DeflatedSharpe,
    Diagnostics,
    cscv_splits,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    parameter_stability,
    probability_of_backtest_overfitting,
    return_moments,
)
from tradesweep.sweep.diagnostics_nb import sharpe_key_nb
from tradesweep.sweep.space import ParameterSpace

GAMMA = 0.5772156649015329
PHI = NormalDist()

# ---- Deflated Sharpe Ratio ---------------------------------------------------------------------


def test_dsr_hand_computed() -> None:
    # N = 10 trials, V = 0.01, SR* = 0.3 per period, T = 101, normal returns (g3 = 0, g4 = 3).
    # Phi^-1(1 - 1/10) = 1.2815515655446004; Phi^-1(1 - 1/(10 e)) = Phi^-1(0.96321...) = 1.78924
    # SR0 = sqrt(0.01) * (0.42278 * 1.28155 + 0.57722 * 1.78924) = 0.1574598
    # z   = (0.3 - 0.1574598) * sqrt(100) / sqrt(1 - 0 + (3 - 1) / 4 * 0.09) = 1.394374
    # DSR = Phi(1.394374) = 0.918398
    q1, q2 = PHI.inv_cdf(0.9), PHI.inv_cdf(1 - 1 / (10 * math.e))
    assert q1 == pytest.approx(1.2815515655446004) and q2 == pytest.approx(1.7892417645816)
    sr0 = 0.1 * ((1 - GAMMA) * q1 + GAMMA * q2)
    z = (0.3 - sr0) * 10 / math.sqrt(1 + 0.5 * 0.09)
    result = deflated_sharpe_ratio(0.3, 10, 0.01, 101)
    assert result.sr0 == pytest.approx(sr0) == pytest.approx(0.157459830134575)
    assert result.dsr == pytest.approx(PHI.cdf(z)) == pytest.approx(0.9183975800023507)
    assert result.reason is None


def test_dsr_paper_example() -> None:
    # Bailey & López de Prado (2014), numerical example: 100 trials, best annualised SR 2.5,
    # variance of annualised SRs 0.5, 5 years of daily returns (T = 1250, 250 days a year),
    # skewness -3, kurtosis 10 -> expected max SR ~ 1.79 annualised, DSR ~ 0.9004.
    result = deflated_sharpe_ratio(
        sharpe=2.5 / math.sqrt(250),
        n_trials=100,
        sharpe_variance=0.5 / 250,
        n_observations=1250,
        skewness=-3.0,
        kurtosis=10.0,
    )
    assert result.sr0 * math.sqrt(250) == pytest.approx(1.79, abs=0.01)
    assert result.dsr == pytest.approx(0.9004, abs=5e-4)


def test_dsr_edge_cases() -> None:
    # one trial or identical trials: SR0 = 0, the DSR is the probabilistic SR against 0
    psr = PHI.cdf(0.1 * math.sqrt(99) / math.sqrt(1 + 0.5 * 0.01))
    assert deflated_sharpe_ratio(0.1, 1, 0.02, 100).dsr == pytest.approx(psr)
    assert deflated_sharpe_ratio(0.1, 50, 0.0, 100).dsr == pytest.approx(psr)
    assert expected_max_sharpe(1, 0.5) == 0.0 == expected_max_sharpe(100, 0.0)
    short = deflated_sharpe_ratio(0.1, 10, 0.01, 1)
    assert short.dsr is None and "2 return observations" in (short.reason or "")
    odd = deflated_sharpe_ratio(1.0, 10, 0.01, 100, skewness=3.0, kurtosis=3.0)
    assert odd.dsr is None and "not positive" in (odd.reason or "")
    nan = deflated_sharpe_ratio(math.nan, 10, 0.01, 100)
    assert nan.dsr is None and nan.to_dict()["sharpe"] is None
    with pytest.raises(SettingsError):
        deflated_sharpe_ratio(0.1, 0, 0.01, 100)
    with pytest.raises(SettingsError):
        deflated_sharpe_ratio(0.1, 5, -0.01, 100)


@given(n1=st.integers(1, 10_000), n2=st.integers(1, 10_000), v=st.floats(1e-6, 0.1))
def test_more_trials_never_raise_the_dsr(n1: int, n2: int, v: float) -> None:
    few, many = sorted([n1, n2])
    assert expected_max_sharpe(few, v) <= expected_max_sharpe(many, v) + 1e-12
    a = deflated_sharpe_ratio(0.1, few, v, 500).dsr
    b = deflated_sharpe_ratio(0.1, many, v, 500).dsr
    assert a is not None and b is not None and b <= a + 1e-12


def test_return_moments_match_scipy() -> None:
    r = np.random.default_rng(4).standard_t(5, 500) * 0.01 + 0.0005
    m = return_moments(pd.Series(r))
    assert m.n_observations == 500
    assert m.sharpe == pytest.approx(r.mean() / r.std(ddof=1))
    assert m.skewness == pytest.approx(stats.skew(r))
    assert m.kurtosis == pytest.approx(stats.kurtosis(r, fisher=False))
    flat = return_moments(np.zeros(10))
    assert math.isnan(flat.sharpe) and flat.n_observations == 10


# ---- parameter stability -----------------------------------------------------------------------


def spike_grid() -> pd.Series:
    # a 3 x 3 grid (index = 3 * row + col) with a lone spike in the middle:
    #   0.1 0.2 0.1
    #   0.2 2.0 0.3
    #   0.1 0.2 0.1
    return pd.Series([0.1, 0.2, 0.1, 0.2, 2.0, 0.3, 0.1, 0.2, 0.1])


def grid_neighbours(index: int) -> list[int]:
    row, col = divmod(index, 3)
    steps = [(row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)]
    return [3 * r + c for r, c in steps if 0 <= r < 3 and 0 <= c < 3]


def test_stability_exposes_a_spike() -> None:
    result = parameter_stability(spike_grid(), grid_neighbours)
    # winner 4 (2.0); neighbours 1, 3, 5, 7 = 0.2, 0.2, 0.3, 0.2 -> mean 0.225, ratio 0.1125
    assert result.winner == 4 and result.winner_value == 2.0
    assert sorted(result.neighbours) == [1, 3, 5, 7]
    assert result.neighbour_mean == pytest.approx(0.225)
    assert result.ratio == pytest.approx(0.1125)


class Pair(Strategy):
    name: ClassVar[str] = "pair"
    description: ClassVar[str] = "test strategy"
    schema: ClassVar[tuple[Param, ...]] = (
        Param("fast", int, 5, 1, 100, ""),
        Param("slow", int, 20, 2, 200, ""),
    )

    @classmethod
    def check(cls, params: dict[str, int | float]) -> None:
        if params["fast"] >= params["slow"]:
            raise ParameterError("fast must be below slow")

    def warmup_period(self) -> int:
        return 0

    def signals(self, bars: pd.DataFrame) -> Any:
        raise NotImplementedError

    def on_candle(self, candle: Any) -> None:
        return None

    def reset(self) -> None:
        pass


def test_stability_of_a_plateau_with_the_space_neighbours() -> None:
    space = ParameterSpace(Pair, {"fast": "10:20:5", "slow": "20:30:5"})
    combos = space.valid_combinations().to_frame()
    # a smooth objective peaking at (15, 25): 1 - 0.01 * distance in steps
    steps = (combos["fast"] - 15).abs() / 5 + (combos["slow"] - 25).abs() / 5
    objective = 1.0 - 0.01 * steps
    result = parameter_stability(objective, space.neighbours)
    assert result.winner == 4  # (15, 25)
    assert sorted(result.neighbours) == [1, 3, 5, 7]
    assert result.neighbour_mean == pytest.approx(0.99)
    assert result.ratio == pytest.approx(0.99)
    # (20, 25) = index 7 has the invalid (20, 20) next to it: only 2 neighbours count
    edge = parameter_stability(objective, space.neighbours, winner=7)
    assert edge.neighbours == (4, 8)
    assert edge.neighbour_mean == pytest.approx((1.0 + 0.98) / 2)


def test_stability_skips_missing_and_null_neighbours() -> None:
    objective = spike_grid().drop(index=[1]).astype("Float64")
    objective[3] = pd.NA
    result = parameter_stability(objective, {4: [1, 3, 5, 7]}, winner=4)
    assert result.neighbours == (5, 7)
    assert result.neighbour_mean == pytest.approx(0.25)  # (0.3 + 0.2) / 2


def test_stability_undefined_cases() -> None:
    alone = parameter_stability(pd.Series({7: 1.5}), lambda i: [], winner=7)
    assert alone.neighbour_mean is None and alone.ratio is None and alone.reason
    negative = parameter_stability(pd.Series([-1.0, -2.0]), {0: [1]})
    assert negative.winner == 0 and negative.neighbour_mean == -2.0
    assert negative.ratio is None and "positive" in (negative.reason or "")
    tie = parameter_stability(pd.Series([1.0, 3.0, 3.0]), {1: [0], 2: [1]})
    assert tie.winner == 1  # lowest index on a tie
    with pytest.raises(SettingsError):
        parameter_stability(pd.Series([np.nan]), {0: []})


# ---- PBO (CSCV) --------------------------------------------------------------------------------


def block_stats(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(S blocks, T per block, N combinations) returns -> per-block sum, sum of squares, count."""
    count = np.full(returns.shape[::2], float(returns.shape[1]))
    return returns.sum(axis=1), (returns**2).sum(axis=1), count


def reference_cscv_logits(
    sum_r: np.ndarray, sum_r2: np.ndarray, count: np.ndarray, splits: np.ndarray
) -> np.ndarray:
    """Oracle: for each split, Sharpe ratios mean / std(ddof=1) of each half, the in-sample
    best, its out-of-sample rank by scipy.stats.rankdata (average ties), the logit."""
    n = sum_r.shape[1]
    out = []
    for in_sample in splits:
        sharpes = []
        for half in (in_sample, ~in_sample):
            s, s2, c = sum_r[half].sum(0), sum_r2[half].sum(0), count[half].sum(0)
            mean = s / c
            with np.errstate(divide="ignore", invalid="ignore"):  # one return: c - 1 = 0
                var = (s2 - c * mean**2) / (c - 1)
            flat = ~(var > 1e-12 * s2 / c) | (c < 2)
            sharpes.append(np.where(flat, 0.0, mean / np.sqrt(np.where(flat, 1.0, var))))
        best = int(np.argmax(sharpes[0]))
        w = stats.rankdata(sharpes[1])[best] / (n + 1)
        out.append(math.log(w / (1 - w)))
    return np.array(out)


def test_pbo_hand_computed_s4_n3() -> None:
    # two returns per block; combinations A, B, C:
    #   A: [1, 3] in blocks 0, 1 and [-3, -1] in blocks 2, 3
    #   B: the mirror image
    #   C: [0, 2] in every block
    up, down, mid = [1.0, 3.0], [-3.0, -1.0], [0.0, 2.0]
    a = [up, up, down, down]
    b = [down, down, up, up]
    c = [mid, mid, mid, mid]
    returns = np.array([a, b, c]).transpose(1, 2, 0)  # (S=4, T=2, N=3)
    # split {0,1} | {2,3}: IS Sharpe A = 2 / sqrt(4/3) = 1.732, B = -1.732, C = 1 / 1.155 = 0.866
    #   -> A wins; out of sample A = -1.732 is the worst: rank 1, w = 1/4, logit ln(1/3)
    # split {2,3} | {0,1}: the mirror: B wins and ranks last, logit ln(1/3)
    # the 4 mixed splits: A and B have mean 0 (Sharpe 0) in both halves, C wins with 0.866 and
    #   is best out of sample too: rank 3, w = 3/4, logit ln(3)
    # -> PBO = 2 / 6
    result = probability_of_backtest_overfitting(*block_stats(returns))
    splits = cscv_splits(4).tolist()
    assert splits == [
        [True, True, False, False],
        [True, False, True, False],
        [True, False, False, True],
        [False, True, True, False],
        [False, True, False, True],
        [False, False, True, True],
    ]
    third, three = math.log(1 / 3), math.log(3)
    np.testing.assert_allclose(result.logits, [third, three, three, three, three, third])
    assert result.pbo == pytest.approx(2 / 6)
    assert (result.n_blocks, result.n_combinations, result.n_splits) == (4, 3, 6)


def test_identical_combinations_count_as_overfit() -> None:
    # every combination equal: the IS winner ranks (N+1)/2 out of sample, w = 1/2, logit 0,
    # and a logit of exactly 0 counts as overfit (l <= 0)
    returns = np.random.default_rng(1).normal(size=(6, 20, 1)).repeat(4, axis=2)
    result = probability_of_backtest_overfitting(*block_stats(returns))
    np.testing.assert_array_equal(result.logits, 0.0)
    assert result.pbo == 1.0


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_blocks=st.sampled_from([2, 4, 6, 8]),
    n=st.integers(2, 40),
    per_block=st.integers(1, 6),
    duplicates=st.booleans(),
)
def test_kernel_equals_the_reference(
    seed: int, n_blocks: int, n: int, per_block: int, duplicates: bool
) -> None:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.001, 0.01, size=(n_blocks, per_block, n))
    if duplicates:  # exact ties and flat (zero-variance) combinations
        returns[:, :, n // 2 :] = returns[:, :, : n - n // 2]
        returns[:, :, 0] = 0.0
    sums = block_stats(returns)
    result = probability_of_backtest_overfitting(*sums)
    expected = reference_cscv_logits(*sums, cscv_splits(n_blocks))
    np.testing.assert_allclose(result.logits, expected, rtol=1e-9, atol=1e-12)
    assert result.pbo == np.mean(expected <= 0)


def test_pure_noise_gives_pbo_near_one_half() -> None:
    pbos = []
    for seed in range(30):
        returns = np.random.default_rng(seed).normal(0.0, 0.01, size=(8, 30, 20))
        pbos.append(probability_of_backtest_overfitting(*block_stats(returns)).pbo)
    assert 0.4 < np.mean(pbos) < 0.6


def test_a_truly_better_combination_gives_pbo_near_zero() -> None:
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0, 0.01, size=(16, 50, 200))
    returns[:, :, 17] += 0.01  # one combination earns one standard deviation more every bar
    result = probability_of_backtest_overfitting(*block_stats(returns))
    assert result.pbo == 0.0
    assert result.logit_median == pytest.approx(math.log(200))  # always ranked N of N


def test_uneven_counts_per_block() -> None:
    rng = np.random.default_rng(9)
    sum_r = rng.normal(size=(6, 12))
    count = rng.integers(5, 40, size=(6, 12)).astype(float)
    sum_r2 = sum_r**2 / count + rng.uniform(0.5, 2.0, size=(6, 12)) * count
    result = probability_of_backtest_overfitting(sum_r, sum_r2, count)
    expected = reference_cscv_logits(sum_r, sum_r2, count, cscv_splits(6))
    np.testing.assert_allclose(result.logits, expected, rtol=1e-9)


def test_sharpe_key_orders_like_the_sharpe_ratio() -> None:
    rng = np.random.default_rng(2)
    sharpes, keys = [], []
    for _ in range(200):
        r = rng.normal(rng.normal(0, 0.01), 0.01, size=int(rng.integers(2, 50)))
        sharpes.append(r.mean() / r.std(ddof=1))
        keys.append(sharpe_key_nb(r.sum(), (r**2).sum(), float(r.size)))
    np.testing.assert_allclose(keys, np.sign(sharpes) * np.square(sharpes), rtol=1e-8)
    assert sharpe_key_nb(0.0, 0.0, 10.0) == 0.0  # flat
    assert sharpe_key_nb(0.5, 0.25, 1.0) == 0.0  # one return


def test_cscv_splits() -> None:
    full = cscv_splits(16)
    assert full.shape == (12_870, 16)
    assert (full.sum(axis=1) == 8).all()
    assert len({row.tobytes() for row in full}) == 12_870
    assert {row.tobytes() for row in full} == {(~row).tobytes() for row in full}
    capped = cscv_splits(16, max_splits=500, seed=3)
    assert capped.shape == (500, 16) and len({r.tobytes() for r in capped}) == 500
    np.testing.assert_array_equal(capped, cscv_splits(16, max_splits=500, seed=3))
    assert cscv_splits(4, max_splits=100).shape == (6, 4)
    huge = cscv_splits(40, max_splits=50, seed=1)
    assert huge.shape == (50, 40) and (huge.sum(axis=1) == 20).all()
    for bad in (3, 0, 1):
        with pytest.raises(SettingsError, match="even number of blocks"):
            cscv_splits(bad)
    with pytest.raises(SettingsError, match="max_splits"):
        cscv_splits(40)


def test_pbo_with_capped_splits_and_bad_input() -> None:
    returns = np.random.default_rng(0).normal(size=(10, 5, 6))
    capped = probability_of_backtest_overfitting(*block_stats(returns), max_splits=40, seed=2)
    assert capped.n_splits == 40 and capped.logits.shape == (40,)
    single = probability_of_backtest_overfitting(*block_stats(returns[:, :, :1]))
    assert single.pbo is None and single.reason
    sums = block_stats(returns)
    with pytest.raises(ValueError, match="one shape"):
        probability_of_backtest_overfitting(sums[0], sums[1][:, :3], sums[2])
    with pytest.raises(SettingsError, match="even"):
        probability_of_backtest_overfitting(*(s[:3] for s in sums))


@pytest.mark.slow
def test_pbo_twenty_thousand_combinations_is_quick() -> None:
    rng = np.random.default_rng(0)
    sum_r = rng.normal(0.0, 0.05, size=(16, 20_000))
    sum_r2 = sum_r**2 / 100 + rng.uniform(0.005, 0.02, size=(16, 20_000))
    count = np.full((16, 20_000), 100.0)
    probability_of_backtest_overfitting(sum_r[:, :10], sum_r2[:, :10], count[:, :10])  # compile
    started = time.process_time()
    result = probability_of_backtest_overfitting(sum_r, sum_r2, count)
    assert result.n_splits == 12_870
    assert time.process_time() - started < 15.0  # ~2.5 s of CPU on a 2-core CI machine


# ---- the bundle --------------------------------------------------------------------------------


def test_diagnostics_to_dict_is_json_safe() -> None:
    bundle = Diagnostics(
        deflated_sharpe=deflated_sharpe_ratio(math.inf, 10, 0.01, 100),
        stability=parameter_stability(spike_grid(), grid_neighbours),
        pbo=None,
    )
    data = bundle.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert data["deflated_sharpe"]["dsr"] is None and data["deflated_sharpe"]["reason"]
    assert data["deflated_sharpe"]["sharpe"] is None
    assert data["stability"]["ratio"] == pytest.approx(0.1125)
    assert data["stability"]["neighbours"] == [1, 3, 5, 7]
    assert data["pbo"] == {"reason": "not computed"}
    returns = np.random.default_rng(0).normal(size=(4, 5, 3))
    pbo = probability_of_backtest_overfitting(*block_stats(returns))
    assert isinstance(pbo, PBO) and "logits" not in pbo.to_dict()
    json.dumps(Diagnostics(pbo=pbo).to_dict(), allow_nan=False)
    assert isinstance(bundle.deflated_sharpe, DeflatedSharpe)
