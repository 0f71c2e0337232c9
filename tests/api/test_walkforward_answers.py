"""What a walk-forward (and sweep) submission answers about trading: one ``min_trades`` default
with the CLI, and ``warnings`` when the windows cannot trade, at submission and at completion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradesweep.cli.main import app
from tradesweep.specs import DEFAULT_MIN_TRADES
from tradesweep.store import Job

Caller = Any  # tests/api/conftest.py Caller: tenant, tenant_id, key, client

URL = "/api/v1/walkforward"
README = {
    "ticker": "GOOGL",
    "fast_range": [5, 20],
    "slow_range": [30, 60],
    "step": 5,
    "train_bars": 500,
    "test_bars": 100,
}
"""The README's walk-forward request, as it is printed there."""


def _finished(client: httpx.Client, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {job}"
        time.sleep(0.2)


def _spec(sessions: sessionmaker[Session], job_id: str) -> dict[str, Any]:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        spec: dict[str, Any] = job.parameters["spec"]
        return spec


def _cli_spec(*args: str) -> dict[str, Any]:
    import json

    out = CliRunner().invoke(
        app,
        [
            "walkforward",
            "-d",
            "GOOGL",
            "-s",
            "sma_crossover",
            "-r",
            "fast=5:20:5",
            "-r",
            "slow=30:60:5",
            "--train",
            "500",
            "--test",
            "100",
            "--print-spec",
            *args,
        ],
    )
    assert out.exit_code == 0, out.output
    spec: dict[str, Any] = json.loads(out.output)
    return spec


def test_the_readme_example_trades_with_the_clis_default(
    acme: Caller, start_worker: Callable[[], None], sessions: sessionmaker[Session], live_worker
) -> None:
    answer = acme.client.post(URL, json=README)
    assert answer.status_code == 202, answer.text
    assert answer.json()["warnings"] == []
    job_id = answer.json()["job_id"]
    assert _spec(sessions, job_id)["min_trades"] == DEFAULT_MIN_TRADES
    assert _cli_spec()["min_trades"] == DEFAULT_MIN_TRADES

    start_worker()
    done = _finished(acme.client, job_id)
    assert done["status"] == "completed", done["error"]
    result = done["result"]
    assert result["out_of_sample"]["total_trades"] > 0
    assert any(w["params"] is not None for w in result["windows"])
    assert result["warnings"] == []


def test_a_preset_sets_min_trades_as_in_the_cli(
    acme: Caller, sessions: sessionmaker[Session]
) -> None:
    for body in ({**README, "config_path": "standard"}, {**README, "min_trades": 3}):
        answer = acme.client.post(URL, json=body)
        assert answer.status_code == 202, answer.text
        cli = _cli_spec(
            *(["--preset", "standard"] if "config_path" in body else ["--min-trades", "3"])
        )
        assert _spec(sessions, answer.json()["job_id"])["min_trades"] == cli["min_trades"]
    for low in ("0", "1", "5"):  # the form once refused anything below 10
        form = {"ticker": "GOOGL", "fast_range": ["5", "20"], "slow_range": ["30", "60"]}
        form["min_trades"] = low
        answer = acme.client.post("/api/v1/strategy/sweep", data=form)
        assert answer.status_code == 202, answer.text
        trigger = acme.client.post("/api/pipelines/trigger", json={**form, "min_trades": low})
        assert trigger.status_code == 202, trigger.text


def test_windows_too_short_to_trade_are_told_at_submission(acme: Caller, live_worker) -> None:
    # slow >= 30 bars of warm-up leave at most 10 trades in 40 bars: never 20
    body = {**README, "train_bars": 40, "min_trades": 20}
    answer = acme.client.post(URL, json=body)
    assert answer.status_code == 202, answer.text
    (warning,) = answer.json()["warnings"]
    assert "warm-up" in warning and "30 bars" in warning
    assert warning.startswith("no training window can rank a combination")
    assert "make train_bars at least 50 or lower min_trades" in warning
    anchored = acme.client.post(URL, json={**body, "anchored": True}).json()["warnings"]
    assert anchored[0].startswith("the first training window cannot rank")  # later ones grow
    assert acme.client.post(URL, json={**body, "train_bars": 50}).json()["warnings"] == []

    spec = _cli_spec("--train", "40", "--min-trades", "20")
    as_spec = acme.client.post(URL, json=spec)
    assert as_spec.status_code == 202, as_spec.text
    assert as_spec.json()["warnings"] == [warning]


def test_windows_that_traded_nothing_are_told_in_the_result(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    answer = acme.client.post(URL, json={**README, "min_trades": 50})
    assert answer.status_code == 202, answer.text
    start_worker()
    done = _finished(acme.client, answer.json()["job_id"])
    assert done["status"] == "completed", done["error"]
    result = done["result"]
    assert result["out_of_sample"]["total_trades"] == 0
    (warning,) = result["warnings"]
    assert warning.startswith(f"every one of the {len(result['windows'])} test windows traded")
    assert "below min_trades=50" in warning and "lower min_trades" in warning
    assert "lengthen train_bars (now 500)" in warning


def test_fast_period_inside_parameters_says_where_it_belongs(acme: Caller) -> None:
    answer = acme.client.post(
        "/api/v1/backtests", json={"ticker": "GOOGL", "parameters": {"fast_period": 10}}
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["details"]["field"] == "parameters"
    assert body["details"]["path"] == "parameters.fast_period"
    assert "top-level shorthand" in body["message"]
    assert '"parameters": {"fast": 10}' in body["message"]
    assert '"fast_period": 10 at the top level' in body["message"]


def test_the_compat_walk_forward_and_optimize_results_carry_the_warnings(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    common = {
        "strategy_name": "ma_crossover_strategy",
        "symbol": "GOOGL",
        "timeframe": "1d",
        "optimize_params": {"fast": [5, 10], "slow": [30, 40]},
        "min_trades": 1000,
    }
    walk = acme.client.post(
        "/api/backtest/walk-forward",
        json={
            **common,
            "start_date": "2012-01-01",
            "end_date": "2015-12-31",
            "window_size_months": 12,
        },
    )
    optimize = acme.client.post(
        "/api/backtest/optimize", json={**common, "date_range": ["2012-01-01", "2015-12-31"]}
    )
    assert walk.status_code == optimize.status_code == 202, (walk.text, optimize.text)
    start_worker()
    for answer in (walk, optimize):
        job = _finished(acme.client, answer.json()["id"])
        assert job["status"] == "completed", job["error"]
        results = acme.client.get(f"/api/backtest/{job['job_id']}/results").json()
        (warning,) = results["warnings"]
        assert "below min_trades=1000" in warning and "lower min_trades" in warning
