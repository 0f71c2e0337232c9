"""Reading results: ``/best`` in score order, the full table in pages and as CSV, backtest runs."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import load_sample
from tradesweep.engine.enums import ExitReason, Side, trade_dt
from tradesweep.specs import SweepSpec
from tradesweep.store import BacktestRepository, JobRepository, JobType, SweepResultRepository
from tradesweep.sweep.runner import SweepResult, run_sweep

Caller = Any


@pytest.fixture(scope="module")
def swept() -> SweepResult:
    spec = SweepSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": "sma_crossover",
            "ranges": {"fast": "5:30:5", "slow": "20:60:10"},
            "min_trades": 30,
            "preset": "minimum",
        }
    )
    return run_sweep(spec, workers=1)


def _all_rows(result: SweepResult) -> list[dict[str, Any]]:
    """Every evaluated row, ranked or not (the store keeps what it is given)."""
    rows = []
    for _, row in result.results.iterrows():
        rank = row["rank"]
        rows.append(
            {
                "grid_index": int(row["grid_index"]),
                "params": {p: int(row[p]) for p in result.params},
                "metrics": {k: row[k] for k in result.metric_columns},
                "score": float(row["score"]),
                "rank": None if pd.isna(rank) else int(rank),
                "below_min_trades": bool(row["below_min_trades"]),
            }
        )
    return rows


@pytest.fixture
def stored(swept: SweepResult, acme: Caller, sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions.begin() as s:
        job = JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}}).job
        run = SweepResultRepository(s).write(
            tenant_id=acme.tenant_id,
            job_id=job.id,
            ticker="GOOGL",
            strategy="sma_crossover",
            spec=swept.spec.to_dict(),
            spec_id=swept.spec.spec_id,
            rows=_all_rows(swept),
            grid_combinations=swept.grid_combinations,
            valid_combinations=swept.valid_combinations or 0,
            evaluated=swept.evaluated,
            diagnostics=swept.diagnostics_dict(),
        )
        job.result = {"sweep_run_id": run.id}
    return {"run": run.id, "job": job.id}


def test_best_is_the_ranked_rows_by_score(
    swept: SweepResult, acme: Caller, stored: dict[str, str]
) -> None:
    response = acme.client.get(f"/api/v1/sweeps/{stored['run']}/best", params={"limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sweep_run_id"] == stored["run"] and body["ticker"] == "GOOGL"
    assert body["returned"] == 5 and len(body["results"]) == 5
    assert body["total_results"] == len(swept.results)
    assert body["ranked_results"] == len(swept.ranked)
    assert body["query_timestamp"].endswith("Z")
    expected = swept.rows(5)
    for got, want in zip(body["results"], expected, strict=True):
        assert (got["fast_period"], got["slow_period"]) == (
            want["params"]["fast"],
            want["params"]["slow"],
        )
        assert got["parameters"] == want["params"]
        assert got["score"] == pytest.approx(want["score"], rel=1e-12)
        assert got["sharpe_ratio"] == pytest.approx(want["metrics"]["sharpe_ratio"], rel=1e-12)
        assert got["annualized_return_pct"] == pytest.approx(
            want["metrics"]["annualized_return_pct"], rel=1e-12
        )
        assert got["annualized_return"] == got["annualized_return_pct"]  # the old name, kept
        assert got["total_trades"] == want["metrics"]["total_trades"] >= 30
        days = want["metrics"]["avg_trade_duration_days"]
        assert got["avg_trade_duration"] == f"{days:.1f} days"
        assert got["strategy_type"] == "SMA" and got["ticker"] == "GOOGL"
        for key in (
            "sortino_ratio",
            "total_return_pct",
            "max_drawdown_pct",
            "win_rate_pct",
            "profit_factor",
            "trades_per_month",
        ):
            assert key in got
    scores = [row["score"] for row in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_best_never_lists_rows_below_min_trades(
    swept: SweepResult, acme: Caller, stored: dict[str, str]
) -> None:
    unranked = swept.results[swept.results["rank"].isna()]
    assert len(unranked) > 0 and unranked["score"].max() > swept.ranked["score"].min()
    body = acme.client.get(f"/api/v1/sweeps/{stored['run']}/best?limit=1000").json()
    assert body["returned"] == len(swept.ranked)
    assert all(row["total_trades"] >= 30 for row in body["results"])


def test_best_by_job_id_and_by_ticker(acme: Caller, stored: dict[str, str]) -> None:
    by_job = acme.client.get(f"/api/v1/sweeps/{stored['job']}/best").json()
    assert by_job["sweep_run_id"] == stored["run"] and by_job["returned"] == 10
    other = acme.client.get(f"/api/v1/sweeps/{stored['run']}/best?ticker=eurusd").json()
    assert other["ticker"] == "EURUSD" and other["results"] == [] and other["total_results"] == 0
    bad = acme.client.get(f"/api/v1/sweeps/{stored['run']}/best?limit=0")
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "limit"


def test_results_are_another_tenants_404(make_caller: Any, stored: dict[str, str]) -> None:
    other = make_caller("globex")
    for path in ("", "/best", "/results", "/results?format=csv"):
        response = other.client.get(f"/api/v1/sweeps/{stored['run']}{path}")
        assert response.status_code == 404, path
    assert other.client.get("/api/v1/sweeps/nope/best").json()["error"] == "not_found"


def test_full_table_in_pages_and_as_csv(
    swept: SweepResult, acme: Caller, stored: dict[str, str]
) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        page = acme.client.get(f"/api/v1/sweeps/{stored['run']}/results", params=params).json()
        assert page["total_results"] == len(swept.results)
        seen.extend(page["results"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(swept.results)
    assert [r["parameters"] for r in seen] == [
        {p: int(row[p]) for p in swept.params} for _, row in swept.results.iterrows()
    ]
    assert "calmar_ratio" in seen[0] and "exposure_pct" in seen[0]

    response = acme.client.get(f"/api/v1/sweeps/{stored['run']}/results?format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == len(swept.results)
    assert {"fast", "slow", "score", "sharpe_ratio", "rank"} <= set(table[0])
    assert float(table[0]["score"]) == pytest.approx(seen[0]["score"])
    googl = load_sample("GOOGL")
    for row in (table[0], table[-1]):
        assert pd.Timestamp(row["start"]) == googl.index[0]
        assert pd.Timestamp(row["end"]) == googl.index[-1]


def test_csv_writes_whole_numbers_and_one_timestamp_format(
    swept: SweepResult, acme: Caller, stored: dict[str, str]
) -> None:
    text = acme.client.get(f"/api/v1/sweeps/{stored['run']}/results?format=csv").text
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == len(swept.results)
    for row in table:
        for name in ("fast", "slow", "bars", "total_trades", "stop_and_target_same_bar"):
            assert re.fullmatch(r"\d+", row[name]), (name, row[name])
        assert re.fullmatch(r"\d+|", row["rank"]), row["rank"]
        for name in ("start", "end"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row[name]), row[name]
    assert table[0]["start"] == load_sample("GOOGL").index[0].isoformat()


def test_every_stored_row_names_the_window_it_was_tested_on(swept: SweepResult) -> None:
    first, last = (t.isoformat() for t in load_sample("GOOGL").index[[0, -1]])
    for row in (*swept.all_rows(), *swept.rows()):
        assert (row["metrics"]["start"], row["metrics"]["end"]) == (first, last)


def test_sweep_run_summary(acme: Caller, stored: dict[str, str], swept: SweepResult) -> None:
    body = acme.client.get(f"/api/v1/sweeps/{stored['run']}").json()
    assert body["grid_combinations"] == swept.grid_combinations
    assert body["spec"]["strategy"] == "sma_crossover"
    assert body["links"]["best"].endswith("/best")


def test_backtest_run_with_trades(
    acme: Caller, sessions: sessionmaker[Session], googl: Any
) -> None:
    trades = np.zeros(2, dtype=trade_dt)
    trades["entry_idx"], trades["exit_idx"], trades["pnl"] = [1, 5], [3, 9], [10.0, -4.0]
    trades["side"], trades["exit_reason"] = [Side.long, Side.short], [0, ExitReason.stop_loss]
    with sessions.begin() as s:
        run = BacktestRepository(s).write(
            tenant_id=acme.tenant_id,
            spec={"data": "GOOGL"},
            metrics={"sharpe_ratio": 1.5, "total_trades": 2},
            trades=trades,
            index=googl.index,
            ticker="GOOGL",
            strategy="sma_crossover",
        )
    body = acme.client.get(f"/api/v1/backtests/{run.id}").json()
    assert body["metrics"]["sharpe_ratio"] == 1.5
    assert [t["pnl"] for t in body["trades"]] == [10.0, -4.0]
    assert body["trades"][0]["entry_time"].startswith(str(googl.index[1].date()))
    # named as the CLI and the CSVs name them; the old integer codes kept under *_code
    assert [(t["side"], t["exit_reason"]) for t in body["trades"]] == [
        ("long", "signal"),
        ("short", "stop_loss"),
    ]
    assert [(t["side_code"], t["exit_reason_code"]) for t in body["trades"]] == [(1, 0), (-1, 1)]
    assert acme.client.get("/api/v1/backtests/nope").status_code == 404
