"""``SweepSpec`` and ``run_sweep``: counts, rows equal to single backtests, ranking, JSON,
diagnostics, size limits, progress and cancellation."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradesweep.engine import EngineSettings
from tradesweep.errors import ParameterError, StrategyError
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec, SweepSpec, SweepSpecError
from tradesweep.sweep import ProgressInfo, SweepCancelled, composite_score, run_sweep
from tradesweep.sweep.evaluate import METRIC_COLUMNS

SMALL = {"fast": "10:20:5", "slow": "20:30:5"}  # 9 grid points, 8 valid (fast=20, slow=20 is not)
MEDIUM = {"fast": "5:30:5", "slow": "20:60:10"}


def spec(**fields: Any) -> SweepSpec:
    return SweepSpec.from_dict({"data": "GOOGL", "strategy": "sma_crossover", **fields})


@pytest.fixture(scope="module")
def medium() -> Any:
    return run_sweep(spec(ranges=MEDIUM, preset="standard", min_trades=30))


# ---- the spec ----------------------------------------------------------------------------------


def test_spec_normalises_ranges_so_equal_ranges_share_an_id() -> None:
    a = spec(ranges={"fast": "10:20:5", "slow": [20, 25, 30]})
    b = spec(ranges=["slow=20,25,30", "fast=10:20:5"])
    c = spec(ranges={"fast": {"min": 10, "max": 20, "step": 5}, "slow": {"values": [20, 25, 30]}})
    assert a.spec_id == b.spec_id == c.spec_id
    assert len(a.spec_id) == 16 and int(a.spec_id, 16) >= 0
    assert spec(ranges={"fast": "10:20:5"}).spec_id != a.spec_id
    assert spec(ranges=SMALL, seed=1).spec_id != spec(ranges=SMALL).spec_id


def test_spec_round_trips_through_its_dict() -> None:
    original = spec(
        ranges=SMALL, preset="standard", settings={"fees": 0.002}, search="random", trials=5
    )
    again = SweepSpec.from_dict(original.to_dict())
    assert again == original and again.spec_id == original.spec_id
    json.dumps(original.to_dict(), allow_nan=False)


def test_spec_rejects_unknown_fields_with_a_did_you_mean() -> None:
    with pytest.raises(
        SweepSpecError, match=r"unknown sweep spec field 'objectve'.*did you mean 'objective'"
    ):
        spec(objectve="score")
    with pytest.raises(SweepSpecError, match="field 'data' is missing"):
        SweepSpec.from_dict({"strategy": "sma_crossover"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"search": "grdi"}, "did you mean 'grid'"),
        ({"trials": 10}, "only applies to a random or Bayesian search"),
        ({"search": "random", "trials": 0}, "'trials' must be a whole number >= 1"),
        ({"objective": "sharpe"}, "unknown objective"),
        ({"min_trades": -1}, "'min_trades' must be a whole number >= 0"),
        ({"risk_free_rate": -2}, "risk_free_rate"),
        ({"settings": {"feez": 0.1}}, "did you mean 'fees'"),
        ({"search": "random", "trials": 11, "max_combinations": 10}, "above the limit"),
    ],
)
def test_spec_refuses_bad_fields(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        spec(ranges=SMALL, **fields)


def test_random_and_bayes_default_to_100_trials() -> None:
    assert spec(ranges=SMALL, search="random").trials == 100
    assert spec(ranges=SMALL, search="bayes").trials == 100
    assert spec(ranges=SMALL).trials is None


# ---- counts and rows ----------------------------------------------------------------------------


def test_grid_counts_are_in_the_result_and_its_json() -> None:
    result = run_sweep(spec(ranges=SMALL))
    assert (result.grid_combinations, result.valid_combinations, result.evaluated) == (9, 8, 8)
    out = result.to_json()
    assert (out["grid_combinations"], out["valid_combinations"], out["evaluated"]) == (9, 8, 8)
    pairs = set(zip(result.results["fast"], result.results["slow"], strict=True))
    assert (20, 20) not in pairs and len(pairs) == 8


def test_results_have_every_metric_a_score_and_a_rank(medium: Any) -> None:
    frame = medium.results
    for column in ("grid_index", "fast", "slow", *METRIC_COLUMNS, "score", "below_min_trades"):
        assert column in frame.columns
    expected = composite_score(
        frame["sharpe_ratio"].to_numpy(),
        frame["max_drawdown_pct"].to_numpy(),
        frame["total_trades"],
    )
    np.testing.assert_allclose(frame["score"].to_numpy(), expected, equal_nan=True)


def test_sweep_rows_equal_single_backtests(medium: Any) -> None:
    frame = medium.results
    rows = frame.iloc[[0, len(frame) // 2, len(frame) - 1]]
    for _, row in rows.iterrows():
        report = run_backtest_spec(
            BacktestSpec(
                data="GOOGL",
                strategy="sma_crossover",
                params={"fast": int(row["fast"]), "slow": int(row["slow"])},
                settings=medium.spec.settings,
            )
        )
        for key in METRIC_COLUMNS:
            want, got = report.metrics[key], row[key]
            if want is None:
                assert math.isnan(got), key
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), key


def test_declarative_strategy_rows_equal_backtests_with_its_own_stops() -> None:
    path = "examples/strategies/golden_cross.yaml"
    result = run_sweep(
        SweepSpec.from_dict(
            {
                "data": "GOOGL",
                "strategy": path,
                "ranges": {"fast": "20:60:40", "slow": "100:200:100"},
            }
        ),
        workers=1,
    )
    assert result.path == "general"
    for _, row in result.results.iterrows():
        params = {"fast": int(row["fast"]), "slow": int(row["slow"])}
        report = run_backtest_spec(BacktestSpec(data="GOOGL", strategy=path, params=params))
        assert report.settings.stop_loss == 0.08  # the file's stop applies in both
        assert row["total_trades"] == report.metrics["total_trades"]
        assert row["final_equity"] == pytest.approx(report.metrics["final_equity"], rel=1e-12)


# ---- ranking ------------------------------------------------------------------------------------


def test_min_trades_flags_rows_and_leaves_them_unranked(medium: Any) -> None:
    frame = medium.results
    below = frame["total_trades"] < 30
    assert below.any() and (~below).any(), "the fixture should have rows on both sides"
    assert (frame["below_min_trades"] == below).all()
    assert frame.loc[below, "rank"].isna().all()
    ranked = frame[frame["rank"].notna()]
    assert (ranked["total_trades"] >= 30).all()
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing


def test_objective_choice_changes_the_ranking() -> None:
    by_score = run_sweep(spec(ranges=MEDIUM))
    by_return = run_sweep(spec(ranges=MEDIUM, objective="total_return_pct"))
    assert by_return.ranked["total_return_pct"].is_monotonic_decreasing
    assert by_score.ranked["score"].is_monotonic_decreasing
    order = lambda r: list(zip(r.ranked["fast"], r.ranked["slow"], strict=True))  # noqa: E731
    assert order(by_score) != order(by_return)
    best = by_return.results.loc[by_return.results["total_return_pct"].idxmax()]
    assert by_return.winner == {"fast": best["fast"], "slow": best["slow"]}


# ---- JSON and diagnostics -----------------------------------------------------------------------


def test_json_is_strict_and_holds_the_top_rows(medium: Any) -> None:
    out = medium.to_json(top=3)
    text = json.dumps(out, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert set(out) >= {
        "results",
        "grid_combinations",
        "valid_combinations",
        "evaluated",
        "elapsed_seconds",
        "diagnostics",
    }
    assert [r["rank"] for r in out["results"]] == [1, 2, 3]
    first = out["results"][0]
    assert set(first) >= {"params", "metrics", "score", "rank"}
    assert first["params"] == medium.winner
    assert set(first["metrics"]) == {"start", "end", *METRIC_COLUMNS}
    assert isinstance(first["metrics"]["total_trades"], int | float)
    assert len(medium.to_json()["results"]) == min(medium.spec.top, len(medium.ranked))


def test_diagnostics_describe_the_winner(medium: Any) -> None:
    d = medium.to_json()["diagnostics"]
    winner = medium.ranked.iloc[0]
    ppy = float(winner["periods_per_year"])
    dsr = d["deflated_sharpe"]
    assert dsr["n_trials"] == medium.evaluated
    assert dsr["n_observations"] == int(winner["bars"])
    # the re-run winner's per-bar Sharpe ratio is the row's annualised one de-annualised
    assert dsr["sharpe"] == pytest.approx(winner["sharpe_ratio"] / math.sqrt(ppy), rel=1e-9)
    per_bar = medium.results["sharpe_ratio"].dropna().to_numpy() / math.sqrt(ppy)
    assert dsr["sharpe_variance"] == pytest.approx(np.var(per_bar, ddof=1), rel=1e-9)
    assert 0 <= dsr["dsr"] <= 1
    assert d["stability"]["winner"] == int(winner["grid_index"])
    assert d["pbo"]["n_combinations"] == medium.evaluated and 0 <= d["pbo"]["pbo"] <= 1


def test_pbo_and_stability_give_reasons_when_not_computed() -> None:
    single = run_sweep(spec(ranges={"fast": 10, "slow": 30}))
    d = single.to_json()["diagnostics"]
    assert d["pbo"]["pbo"] is None and "at least 2 combinations" in d["pbo"]["reason"]
    assert d["stability"]["ratio"] is None and d["stability"]["reason"]
    sampled = run_sweep(spec(ranges=MEDIUM, search="random", trials=5)).to_json()["diagnostics"]
    assert "random search" in sampled["stability"]["reason"]
    assert sampled["pbo"]["pbo"] is not None


def test_no_ranked_row_gives_reasons_not_a_winner() -> None:
    result = run_sweep(spec(ranges=SMALL, min_trades=100_000))
    assert result.winner is None and result.ranked.empty and len(result.results) == 8
    d = result.to_json()["diagnostics"]
    assert "no combination was ranked" in d["deflated_sharpe"]["reason"]
    assert result.to_json()["results"] == []


# ---- validation before work ---------------------------------------------------------------------


def test_a_grid_above_the_limit_is_refused_before_the_data_is_read() -> None:
    big = SweepSpec.from_dict(
        {
            "data": "no/such/file.csv",
            "strategy": "sma_crossover",
            "ranges": {"fast": "2:500", "slow": "3:1000"},
            "max_combinations": 100_000,
        }
    )
    with pytest.raises(ParameterError, match=r"498,002 combinations, above the limit of 100,000"):
        run_sweep(big)


def test_bad_parameters_are_refused_before_the_data_is_read() -> None:
    base = {"data": "no/such/file.csv", "strategy": "sma_crossover"}
    with pytest.raises(ParameterError, match="did you mean 'fast'"):
        run_sweep(SweepSpec.from_dict({**base, "ranges": {"fats": "5:10"}}))
    with pytest.raises(ParameterError, match="outside its bounds"):
        run_sweep(SweepSpec.from_dict({**base, "ranges": {"fast": "1:10"}}))
    with pytest.raises(StrategyError, match="unknown strategy"):
        run_sweep(SweepSpec.from_dict({**base, "strategy": "sma_crosover"}))


# ---- progress and cancellation ------------------------------------------------------------------


def test_progress_reaches_the_total() -> None:
    seen: list[ProgressInfo] = []
    result = run_sweep(spec(ranges=MEDIUM), progress=seen.append)
    assert seen and seen[-1].done == seen[-1].total == result.evaluated == 26
    assert all(isinstance(i, ProgressInfo) for i in seen)


def test_bayes_progress_counts_over_batches() -> None:
    seen: list[ProgressInfo] = []
    run_sweep(
        spec(ranges={"fast": "2:40", "slow": "20:120:5"}, search="bayes", trials=40),
        progress=seen.append,
    )
    assert seen[-1].total == 40 and seen[-1].done == 40
    assert [i.done for i in seen] == sorted(i.done for i in seen)


@pytest.mark.parametrize("search", ["grid", "bayes"])
def test_cancel_stops_the_sweep(search: str) -> None:
    stop = threading.Event()
    stop.set()
    trials = {"trials": 20} if search == "bayes" else {}
    with pytest.raises(SweepCancelled):
        run_sweep(
            spec(ranges={"fast": "2:40", "slow": "20:120:5"}, search=search, **trials), cancel=stop
        )
    with pytest.raises(SweepCancelled):
        run_sweep(spec(ranges=SMALL), cancel=lambda: True)


def test_a_cancel_during_the_last_chunk_skips_ranking_and_diagnostics() -> None:
    """The compute's last chunk is no reason to go on: a cancel that arrives while it runs
    stops the sweep before the ranking and the diagnostics (which take seconds on a large
    grid), so a cancelled job never ends as if it had not been cancelled."""
    stop = threading.Event()

    def progress(info: Any) -> None:
        if info.done == info.total:
            stop.set()

    with pytest.raises(SweepCancelled):
        run_sweep(spec(ranges={"fast": "2:40", "slow": "20:120:5"}), progress=progress, cancel=stop)


def test_settings_reach_the_engine() -> None:
    free = run_sweep(spec(ranges={"fast": 10, "slow": 30}))
    costly = run_sweep(spec(ranges={"fast": 10, "slow": 30}, settings={"fees": 0.01}))
    assert costly.settings == EngineSettings(fees=0.01)
    assert costly.results["total_fees"].iloc[0] > 0 == free.results["total_fees"].iloc[0]
    assert costly.results["final_equity"].iloc[0] < free.results["final_equity"].iloc[0]
    assert isinstance(costly.results, pd.DataFrame)
