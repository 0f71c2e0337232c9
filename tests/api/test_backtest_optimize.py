"""The orchestrator's ``/api/backtest/optimize`` and ``/api/backtest/walk-forward`` against a
real server and worker on SQLite and PostgreSQL: the best parameters equal what
``tradesweep sweep`` finds on the same bars and grid."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import DatasetRegistry
from tradesweep.data.window import window_bars
from tradesweep.jobs import JobRetryPolicy, Worker

from ..conftest import TRADESWEEP
from .test_backtest_orchestrator import register_eurusd, wait_done

Caller = Any
OPTIMIZE = {
    "strategy_name": "ma_crossover_strategy",
    "symbol": "EURUSD",
    "timeframe": "1h",
    "date_range": ["2024-01-01", "2024-03-01"],
    "optimize_params": {"fast": [5, 10, 15], "slow": [30, 40, 60]},
    "objective": "sharpe_ratio",
}
"""The orchestrator's optimize request over the strategy's periods."""


@pytest.fixture
def eurusd(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """2024 hourly EURUSD registered as the server's shared data; workers read the same dir."""
    register_eurusd(data_dir)
    monkeypatch.setenv("TRADESWEEP_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def worker(sessions: sessionmaker[Session], eurusd: Path) -> Iterator[None]:
    stop = threading.Event()
    run = Worker(
        sessions,
        poll_interval=0.1,
        compute_workers=1,
        retry=JobRetryPolicy(max_delay=0.2),
        # spawn, not the per-process forkserver: a forkserver started by an earlier test keeps
        # the TRADESWEEP_DATA_DIR of its start, and its children read the datasets there
        context=multiprocessing.get_context("spawn"),
    ).run
    thread = threading.Thread(target=run, args=(stop,), name="test-worker")
    thread.start()
    yield
    stop.set()
    thread.join(60)
    assert not thread.is_alive()


def cli_winner(data_dir: Path, tmp_path: Path, objective: str) -> dict[str, Any]:
    """``tradesweep sweep`` on the same bars (written to a Parquet file) and grid."""
    bars = DatasetRegistry(data_dir).load("EURUSD")
    bars = window_bars(bars, "EURUSD", "1h", "2024-01-01", "2024-03-01")
    path = tmp_path / "eurusd.parquet"
    bars.to_parquet(path)
    command = [
        TRADESWEEP, "sweep", "-d", str(path), "-s", "sma_crossover",
        "-r", "fast=5,10,15", "-r", "slow=30,40,60", "--objective", objective,
        "--min-trades", "1", "--compute-workers", "1", "--no-progress", "--json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("objective", "cli_objective"),
    [("sharpe_ratio", "sharpe_ratio"), ("total_pnl", "total_return_pct"),
     ("win_rate", "win_rate_pct")],
)  # fmt: skip
def test_optimize_finds_what_the_cli_sweep_finds(
    acme: Caller,
    worker: None,
    eurusd: Path,
    tmp_path: Path,
    objective: str,
    cli_objective: str,
) -> None:
    answer = acme.client.post("/api/backtest/optimize", json=OPTIMIZE | {"objective": objective})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    status = wait_done(acme.client, job_id)
    assert status["status"] == "completed", status
    got = acme.client.get(f"/api/backtest/{job_id}/results")
    assert got.status_code == 200, got.text
    body = got.json()
    assert len(body["all_results"]) == body["total_combinations"] == 9
    assert body["best_result"] == body["all_results"][0]
    assert body["best_result"]["rank"] == 1
    cli = cli_winner(eurusd, tmp_path, cli_objective)
    top = cli["results"][0]
    assert top["rank"] == 1
    assert body["best_params"] == top["params"]
    assert body["best_result"]["sharpe_ratio"] == pytest.approx(top["metrics"]["sharpe_ratio"])
    key = {"sharpe_ratio": "sharpe_ratio", "total_pnl": "total_pnl", "win_rate": "win_rate"}
    values = [r[key[objective]] for r in body["all_results"] if r["rank"] is not None]
    assert values == sorted(values, reverse=True)


def test_engine_settings_are_swept_like_the_cli_sweeps_them(
    acme: Caller, worker: None, eurusd: Path, tmp_path: Path
) -> None:
    params = {"fast": [5, 10], "slow": [30, 40], "stop_loss": [0.002, 0.01], "position_size": [0.5]}
    answer = acme.client.post("/api/backtest/optimize", json=OPTIMIZE | {"optimize_params": params})
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    status = wait_done(acme.client, job_id)
    assert status["status"] == "completed", status
    body = acme.client.get(f"/api/backtest/{job_id}/results").json()
    assert len(body["all_results"]) == body["total_combinations"] == 8
    bars = DatasetRegistry(eurusd).load("EURUSD")
    bars = window_bars(bars, "EURUSD", "1h", "2024-01-01", "2024-03-01")
    path = tmp_path / "eurusd.parquet"
    bars.to_parquet(path)
    command = [
        TRADESWEEP, "sweep", "-d", str(path), "-s", "sma_crossover",
        "-r", "fast=5,10", "-r", "slow=30,40", "-r", "stop_loss=0.002,0.01", "-r", "size=0.5",
        "--objective", "sharpe_ratio", "--min-trades", "1", "--compute-workers", "1",
        "--no-progress", "--json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)["results"][0]
    assert body["best_params"]["stop_loss"] == top["params"]["stop_loss"]
    assert body["best_result"]["sharpe_ratio"] == pytest.approx(top["metrics"]["sharpe_ratio"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"optimize_params": {"fats": [5]}}, "optimize_params"),
        ({"optimize_params": {"fast": [5], "stop_loss": [1.5]}}, "optimize_params"),
        ({"optimize_params": {}}, "optimize_params"),
        ({"optimize_params": {"fast": [40], "slow": [30]}}, "optimize_params"),
        ({"objective": "profit"}, "objective"),
        ({"date_range": ["2024-03-01", "2024-01-01"]}, "date_range"),
        ({"date_range": ["2030-01-01", "2030-02-01"]}, "date_range"),
        ({"strategy_name": "turtle_strategy"}, "strategy_name"),
    ],
)
def test_bad_optimize_requests_name_the_field(
    acme: Caller, eurusd: Path, change: dict[str, Any], field: str
) -> None:
    answer = acme.client.post("/api/backtest/optimize", json=OPTIMIZE | change)
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"]["field"] == field, answer.text


def test_walk_forward_runs_rolling_month_windows(acme: Caller, worker: None) -> None:
    request = {
        "strategy_name": "ma_crossover_strategy",
        "symbol": "EURUSD",
        "timeframe": "1h",
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-03-31",
        "window_size_months": 1,
        "optimize_params": {"fast": [5, 10], "slow": [30, 40]},
        "objective": "sharpe_ratio",
    }
    answer = acme.client.post("/api/backtest/walk-forward", json=request)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    assert wait_done(acme.client, job_id)["status"] == "completed"
    body = acme.client.get(f"/api/backtest/{job_id}/results").json()
    assert len(body["results"]) == 2
    first, second = body["results"]
    assert first["train_window"]["start"].startswith("2024-01-01")
    assert first["test_window"]["start"] == second["train_window"]["start"]
    assert set(first["optimized_params"]) == {"fast", "slow"}
    assert "sharpe_ratio" in first["test_performance"]
    too_long = acme.client.post(
        "/api/backtest/walk-forward", json=request | {"window_size_months": 2}
    )
    assert too_long.status_code == 422
    assert too_long.json()["details"]["field"] == "window_size_months"
