"""The job compute use-case: a spec in, a plain picklable outcome out, with the shapes the
worker stores (docs/jobs.md); bad input raises TradesweepError, cancel stops it."""

from __future__ import annotations

import functools
import json
import pickle
from pathlib import Path

import pytest

from tradesweep.errors import TradesweepError
from tradesweep.services.execute import (
    BEST_METRICS,
    BacktestOutcome,
    InvalidJobSpec,
    SweepOutcome,
    UnknownJobType,
    WalkForwardOutcome,
    execute,
    parse_spec,
)
from tradesweep.specs import SweepSpec, WalkForwardSpec
from tradesweep.sweep import ProgressInfo, SweepCancelled

SWEEP = {
    "data": "GOOGL",
    "strategy": "sma_crossover",
    "ranges": {"fast": "5:15:5", "slow": "30:50:10"},
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(tmp_path / "datasets"))


def test_rows_left_out_of_the_ranking_are_kept_and_flagged() -> None:
    outcome = execute("sweep", {**SWEEP, "min_trades": 40}, workers=1)
    assert len(outcome.rows) == 9
    below = [row for row in outcome.rows if row["below_min_trades"]]
    assert below, "this grid has combinations with fewer than 40 trades"
    assert all(row["rank"] is None for row in below)
    assert all(row["metrics"]["total_trades"] < 40 for row in below)
    first_unranked = min(i for i, row in enumerate(outcome.rows) if row["rank"] is None)
    assert all(row["rank"] is None for row in outcome.rows[first_unranked:])


def test_a_sweep_that_ranks_nothing_says_so_and_how_to_fix_it() -> None:
    outcome = execute("sweep", {**SWEEP, "min_trades": 10_000}, workers=1)
    most = max(row["metrics"]["total_trades"] for row in outcome.rows)
    result = outcome.job_result("run-1")
    assert result["best"] is None
    assert result["warnings"] == [
        f"no combination was ranked: the most trades any of the 9 made was {most}, below "
        f"min_trades=10000; lower min_trades (e.g. {most}) or sweep over more bars"
    ]
    assert execute("sweep", SWEEP, workers=1).job_result("run-2")["warnings"] == []


def test_a_sweep_gives_its_ranked_rows_counts_and_summaries() -> None:
    reports: list[ProgressInfo] = []
    outcome = execute("sweep", SWEEP, progress=reports.append, workers=1)

    assert isinstance(outcome, SweepOutcome)
    assert outcome.spec_id == SweepSpec.from_dict(SWEEP).spec_id
    assert outcome.ticker == "GOOGL" and outcome.strategy == "sma_crossover"
    assert outcome.grid_combinations == outcome.valid_combinations == outcome.evaluated == 9
    assert len(outcome.rows) == 9  # every evaluated combination is stored
    ranks = [row["rank"] for row in outcome.rows]
    ranked = [r for r in ranks if r is not None]
    assert ranks[: len(ranked)] == list(range(1, len(ranked) + 1))  # ranked ones first
    assert reports and reports[-1].done == reports[-1].total == 9

    result = outcome.job_result("run-1")
    assert result["sweep_run_id"] == "run-1"
    assert result["total_combinations"] == 9
    assert result["winner"] == outcome.rows[0]["params"]
    assert result["best"]["params"] == result["winner"]
    assert result["best"]["score"] == outcome.rows[0]["score"]
    assert set(result["best"]["metrics"]) == set(BEST_METRICS)
    assert set(result["diagnostics"]) >= {"deflated_sharpe", "stability", "pbo"}
    metrics = outcome.job_metrics()
    assert metrics["combinations_tested"] == 9 and metrics["bars"] == 2335
    assert metrics["combinations_per_second"] > 0
    json.dumps([result, metrics], allow_nan=False)
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def test_a_backtest_gives_its_metrics_and_trades() -> None:
    spec = {"data": "GOOGL", "strategy": "sma_crossover", "params": {"fast": 10, "slow": 30}}
    outcome = execute("backtest", spec)
    assert isinstance(outcome, BacktestOutcome)
    assert len(outcome.trades) == outcome.metrics["total_trades"] > 0
    assert len(outcome.index) == outcome.bars == 2335
    assert outcome.job_result("bt-1") == {
        "backtest_run_id": "bt-1",
        "metrics": outcome.metrics,
        "signals_generated": outcome.signals_generated,
    }
    assert outcome.signals_generated >= outcome.metrics["total_trades"]
    assert outcome.job_metrics()["combinations_tested"] == 1
    copy = pickle.loads(pickle.dumps(outcome))
    assert (copy.trades == outcome.trades).all()


def test_a_walkforward_gives_its_json() -> None:
    spec = {**SWEEP, "train_bars": 1000, "test_bars": 500}
    outcome = execute("walkforward", spec, workers=1)
    assert isinstance(outcome, WalkForwardOutcome)
    assert outcome.job_result()["spec_id"] == WalkForwardSpec.from_dict(spec).spec_id
    assert len(outcome.job_result()["windows"]) == 2
    assert outcome.bars == 2335 and outcome.evaluated == 18


def test_job_types_read_their_own_spec() -> None:
    assert isinstance(parse_spec("sweep", SWEEP), SweepSpec)
    with pytest.raises(TradesweepError, match="unknown backtest spec field 'ranges'"):
        parse_spec("backtest", SWEEP)
    with pytest.raises(UnknownJobType, match="unknown job type 'optimise'"):
        execute("optimise", SWEEP)
    with pytest.raises(InvalidJobSpec, match="a sweep job needs a spec"):
        execute("sweep", None)  # type: ignore[arg-type]


def test_bad_input_raises_a_tradesweep_error() -> None:
    with pytest.raises(TradesweepError, match="did you mean 'fast'"):
        execute("sweep", {**SWEEP, "ranges": {"fsat": "5:15:5"}})
    with pytest.raises(TradesweepError):
        execute("backtest", {"data": "NOPE", "strategy": "sma_crossover"})


def test_cancel_stops_a_sweep() -> None:
    with pytest.raises(SweepCancelled):
        execute("sweep", SWEEP, cancel=lambda: True, workers=1)


def test_a_jobs_ticker_resolves_in_its_tenant_first_then_shared(tmp_path: Path) -> None:
    from tradesweep.data import DatasetRegistry, load_sample

    googl = load_sample("GOOGL")
    shared = DatasetRegistry(tmp_path / "datasets")
    shared.for_tenant(5).register_frame(googl.iloc[700:1300], "SAME")
    shared.register_frame(googl.iloc[:700], "SAME")  # the operator's, imported later
    spec = {**SWEEP, "data": "SAME"}
    run = functools.partial(execute, "sweep", spec, workers=1, registry=shared)
    assert run().bars == 700  # no tenant: the shared one
    assert run(tenant=5).bars == 600  # the tenant's own
    assert run(tenant=6).bars == 700  # no own: shared
    with pytest.raises(TradesweepError, match="unknown ticker"):
        execute("sweep", {**SWEEP, "data": "ONLY5"}, workers=1, tenant=6)
