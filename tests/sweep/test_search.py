"""Random and Bayesian search: seeded, inside the grid, the same rows as a grid search, and
(Bayes) better than chance on a space whose optimum is known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.specs import SweepSpec
from tradesweep.sweep import ParameterSpace, run_sweep
from tradesweep.sweep.search import bayes_search

PLUGIN = Path(__file__).parent / "plugins" / "phase_probe.py"
WAVE_RANGES = {"phase": "0:19", "hold": "1:19"}  # 380 combinations; best: phase 15, hold 10
GOOGL_RANGES = {"fast": "2:40:2", "slow": "20:120:5"}


def googl(**fields: Any) -> SweepSpec:
    return SweepSpec.from_dict(
        {"data": "GOOGL", "strategy": "sma_crossover", "ranges": GOOGL_RANGES, **fields}
    )


@pytest.fixture(scope="module")
def wave_csv(tmp_path_factory: pytest.TempPathFactory) -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("phase_probe_bars", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path_factory.mktemp("wave") / "wave.csv"
    module.wave_bars(400).to_csv(path)
    return str(path)


def wave(data: str, **fields: Any) -> SweepSpec:
    return SweepSpec.from_dict(
        {"data": data, "strategy": str(PLUGIN), "ranges": WAVE_RANGES, **fields}
    )


@pytest.fixture(scope="module")
def grid() -> Any:
    return run_sweep(googl())


@pytest.fixture(scope="module")
def wave_grid(wave_csv: str) -> Any:
    return run_sweep(wave(wave_csv), workers=1)


# ---- random -------------------------------------------------------------------------------------


def test_random_search_is_seeded_and_a_subset_of_the_valid_grid(grid: Any) -> None:
    first = run_sweep(googl(search="random", trials=30, seed=7))
    again = run_sweep(googl(search="random", trials=30, seed=7))
    other = run_sweep(googl(search="random", trials=30, seed=8))
    picked = set(first.results["grid_index"])
    assert len(picked) == first.evaluated == 30
    assert picked == set(again.results["grid_index"])
    assert picked != set(other.results["grid_index"])
    assert picked <= set(grid.results["grid_index"])
    assert (first.results["fast"] < first.results["slow"]).all()


def test_random_rows_equal_the_grid_rows_of_the_same_combinations(grid: Any) -> None:
    sampled = run_sweep(googl(search="random", trials=12, seed=3))
    columns = [c for c in sampled.results.columns if c not in ("rank", "below_min_trades")]
    left = sampled.results[columns].set_index("grid_index").sort_index()
    right = grid.results[columns].set_index("grid_index").loc[left.index]
    pd.testing.assert_frame_equal(left, right)


def test_random_search_of_more_trials_than_combinations_takes_them_all() -> None:
    result = run_sweep(
        SweepSpec.from_dict(
            {
                "data": "GOOGL",
                "strategy": "sma_crossover",
                "ranges": {"fast": "10:20:5", "slow": "20:30:5"},
                "search": "random",
                "trials": 50,
            }
        )
    )
    assert result.evaluated == 8


# ---- bayes --------------------------------------------------------------------------------------


def test_bayes_rows_have_the_grid_schema_and_are_valid_and_distinct(grid: Any) -> None:
    result = run_sweep(googl(search="bayes", trials=40, seed=1))
    assert list(result.results.columns) == list(grid.results.columns)
    assert result.evaluated == 40 == result.results["grid_index"].nunique()
    assert set(result.results["grid_index"]) <= set(grid.results["grid_index"])
    assert (result.results["fast"] < result.results["slow"]).all()
    assert result.to_json()["diagnostics"]["deflated_sharpe"]["n_trials"] == 40


def test_bayes_is_deterministic_for_a_seed() -> None:
    a = run_sweep(googl(search="bayes", trials=24, seed=5)).results
    b = run_sweep(googl(search="bayes", trials=24, seed=5)).results
    assert list(a["grid_index"]) == list(b["grid_index"])


def test_bayes_rows_equal_the_grid_rows(grid: Any) -> None:
    result = run_sweep(googl(search="bayes", trials=20, seed=2))
    metrics = ["sharpe_ratio", "total_return_pct", "total_trades", "score"]
    left = result.results.set_index("grid_index")[metrics].sort_index()
    right = grid.results.set_index("grid_index")[metrics].loc[left.index]
    pd.testing.assert_frame_equal(left, right)


def test_bayes_finds_the_known_optimum(wave_csv: str, wave_grid: Any) -> None:
    scores = wave_grid.results["score"].to_numpy(dtype=np.float64)
    assert wave_grid.winner == {"phase": 15, "hold": 10}
    result = run_sweep(wave(wave_csv, search="bayes", trials=40, seed=0), workers=1)
    best = float(result.ranked["score"].iloc[0])
    assert best > np.nanmedian(scores)
    assert best >= np.nanquantile(scores, 0.95)
    # random search with the same budget, for comparison: Bayes should do at least as well
    sampled = run_sweep(wave(wave_csv, search="random", trials=40, seed=0), workers=1)
    assert best >= float(sampled.ranked["score"].iloc[0])


def test_bayes_optimises_only_rankable_rows(grid: Any) -> None:
    """Rows below min_trades are told to the optimiser as pruned, not as their objective."""
    below = grid.results["total_trades"] < 25
    best = grid.results["profit_factor"].max()
    assert grid.results.loc[below, "profit_factor"].max() == best, "few trades, best factor"
    result = run_sweep(googl(search="bayes", trials=60, objective="profit_factor", min_trades=25))
    assert result.search is not None and not result.ranked.empty
    assert result.search.best_value == result.ranked["profit_factor"].iloc[0]


def test_bayes_never_evaluates_an_invalid_combination() -> None:
    spec = googl(search="bayes", trials=30, constraint="slow >= 3 * fast")
    result = run_sweep(spec)
    assert result.evaluated == 30
    assert (result.results["slow"] >= 3 * result.results["fast"]).all()


def test_bayes_on_a_small_space_evaluates_every_valid_combination() -> None:
    result = run_sweep(
        SweepSpec.from_dict(
            {
                "data": "GOOGL",
                "strategy": "sma_crossover",
                "ranges": {"fast": "10:20:5", "slow": "20:30:5"},
                "search": "bayes",
                "trials": 20,
            }
        )
    )
    assert result.evaluated == 8
    assert "all were evaluated" in result.to_json()["diagnostics"]["search_note"]


def test_bayes_search_tells_repeats_and_invalid_suggestions_apart() -> None:
    from tradesweep.strategies import strategy_class

    space = ParameterSpace(strategy_class("sma_crossover"), {"fast": "2:30", "slow": "3:30"})
    evaluated: list[int] = []

    def bowl(combos: Any) -> np.ndarray:  # a smooth bowl with its top at fast=10, slow=20
        return -((combos.columns["fast"] - 10.0) ** 2) - (combos.columns["slow"] - 20.0) ** 2

    def evaluate(combos: Any) -> np.ndarray:
        evaluated.extend(combos.index.tolist())
        return bowl(combos)

    report = bayes_search(space, 60, 0, evaluate)
    assert report.evaluated == len(evaluated) == len(set(evaluated)) == 60
    assert report.asks == report.evaluated + report.invalid + report.repeats
    assert report.invalid > 0  # fast >= slow is half the square
    assert space.is_valid(evaluated).all()
    best = space.combinations(evaluated)[int(np.argmax(bowl(space.combinations(evaluated))))]
    assert abs(best["fast"] - 10) <= 3 and abs(best["slow"] - 20) <= 3
