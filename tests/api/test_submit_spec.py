"""Specs posted as they are: what ``tradesweep sweep / walkforward / backtest --print-spec``
prints goes to ``POST /api/v1/sweeps``, ``/api/v1/walkforward`` and ``/api/v1/backtests``
unchanged, a real worker runs it, and the stored metrics are those of the same CLI run with
``--json``. A spec naming a file, a plugin, an unknown field or another tenant's dataset is
refused with the field named. On SQLite and PostgreSQL, against a real server."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tradesweep.cli.main import app as cli
from tradesweep.data import synthetic_bars

from .conftest import Caller
from .test_dataset_tenancy import _csv, _upload

SWEEP_ARGS = ["-d", "GOOGL", "-s", "sma_crossover", "-r", "fast=5:20:5", "-r", "slow=30:60:10"]
"""A 4 x 4 grid on the bundled GOOGL sample (every fast below every slow)."""
COMPARED = ("sharpe_ratio", "total_return_pct", "max_drawdown_pct", "total_trades", "score")


def _cli(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _finished(client: httpx.Client, job_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            assert job["status"] == "completed", job
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {job}"
        time.sleep(0.2)


def _submitted(caller: Caller, path: str, spec: dict[str, Any]) -> str:
    answer = caller.client.post(path, json=spec)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert answer.headers["Location"] == f"/api/v1/jobs/{body['job_id']}"
    return str(body["job_id"])


def test_a_printed_sweep_spec_runs_as_the_cli_runs_it(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    spec = _cli("sweep", *SWEEP_ARGS, "--preset", "standard", "--print-spec")
    job_id = _submitted(acme, "/api/v1/sweeps", spec)
    start_worker()
    _finished(acme.client, job_id)
    local = _cli("sweep", *SWEEP_ARGS, "--preset", "standard", "--json", "--no-progress")

    run = acme.client.get(f"/api/v1/sweeps/{job_id}").json()
    assert run["spec_id"] == local["spec_id"]
    assert run["spec"] == spec
    served = acme.client.get(f"/api/v1/sweeps/{job_id}/results", params={"limit": 100}).json()
    rows = {(r["parameters"]["fast"], r["parameters"]["slow"]): r for r in served["results"]}
    assert len(rows) == local["valid_combinations"]
    for row in local["results"]:  # the top rows, each the same combination as stored
        got = rows[(row["params"]["fast"], row["params"]["slow"])]
        expected = {**row["metrics"], "score": row["score"]}
        assert {k: got[k] for k in COMPARED} == pytest.approx({k: expected[k] for k in COMPARED})


def test_a_printed_backtest_spec_runs_as_the_cli_runs_it(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    args = ["backtest", "-d", "GOOGL", "-s", "sma_crossover", "-p", "fast=10", "-p", "slow=30"]
    spec = _cli(*args, "--fees", "0.001", "--print-spec")
    job_id = _submitted(acme, "/api/v1/backtests", spec)
    start_worker()
    job = _finished(acme.client, job_id)
    local = _cli(*args, "--fees", "0.001", "--json")

    run = acme.client.get(f"/api/v1/backtests/{job['result']['backtest_run_id']}").json()
    assert run["spec"] == spec
    assert run["metrics"] == pytest.approx(local["metrics"])
    assert len(run["trades"]) == local["metrics"]["total_trades"]


def test_a_printed_walkforward_spec_runs_as_the_cli_runs_it(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    args = ["walkforward", *SWEEP_ARGS, "--train-bars", "500", "--test-bars", "400"]
    spec = _cli(*args, "--print-spec")
    job_id = _submitted(acme, "/api/v1/walkforward", spec)
    start_worker()
    job = _finished(acme.client, job_id)
    local = _cli(*args, "--json", "--no-progress")

    assert job["result"]["spec_id"] == local["spec_id"]
    assert job["result"]["out_of_sample"] == pytest.approx(local["out_of_sample"])
    assert [w["params"] for w in job["result"]["windows"]] == [
        w["params"] for w in local["windows"]
    ]


def test_the_form_request_still_works_beside_the_spec(acme: Caller) -> None:
    request = {"ticker": "GOOGL", "strategy_type": "SMA", "parameters": {"fast": 10, "slow": 30}}
    answer = acme.client.post("/api/v1/backtests", json=request)
    assert answer.status_code == 202, answer.text
    assert answer.json()["parameters"]["strategy_type"] == "SMA"
    form = acme.client.post("/api/v1/backtests", data={"ticker": "GOOGL", "fast_period": "10"})
    assert form.status_code == 202, form.text
    spec_as_form = acme.client.post("/api/v1/sweeps", data={"data": "GOOGL", "strategy": "SMA"})
    assert spec_as_form.status_code == 415, spec_as_form.text


SWEEP = {"data": "GOOGL", "strategy": "sma_crossover", "ranges": {"fast": [5, 10], "slow": [30]}}
BACKTEST = {"data": "GOOGL", "strategy": "sma_crossover", "params": {"fast": 10, "slow": 30}}
WALKFORWARD = {**SWEEP, "train_bars": 500, "test_bars": 100}
ROUTES = {
    "/api/v1/sweeps": SWEEP,
    "/api/v1/backtests": BACKTEST,
    "/api/v1/walkforward": WALKFORWARD,
}


def _refused(caller: Caller, path: str, body: dict[str, Any], field: str) -> dict[str, Any]:
    answer = caller.client.post(path, json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert set(error) == {"error", "message", "details"}
    assert error["details"]["field"] == field, error
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"data": "/etc/passwd"}, "data"),
        ({"data": "tests/data/ohlcv.csv"}, "data"),
        ({"strategy": "examples/strategies/golden_cross.yaml"}, "strategy"),
        ({"strategy": "plugins/mine.py:Mine"}, "strategy"),
        ({"plugins": ["/tmp/evil.py"]}, "plugins"),
        ({"defaults": {"fast": {"default": 20, "max": 100_000}}}, "defaults"),
        ({"preset": "/etc/tradesweep/costs.yaml"}, "preset"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_a_spec_naming_what_a_request_may_not_is_refused(
    acme: Caller, path: str, change: dict[str, Any], field: str
) -> None:
    body = {**ROUTES[path], **change}  # a backtest spec has no preset: unknown, named
    error = _refused(acme, path, body, field)
    assert acme.client.get("/api/v1/jobs").json()["jobs"] == []
    if field == "data":
        assert error["error"] == "unknown_ticker"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"top": 1_000_000}, "top"),
        ({"constraint": "fast < slow" + " and fast < slow" * 100}, "constraint"),
        ({"ranges": ["fast=5:10"]}, "ranges"),
        ({"ranges": {"fast": [5, 10], "slow": [30], "signal": [3]}}, "ranges"),
        ({"settings": {"fees": -1}}, "settings"),
        ({"search": "random", "trials": 2_000_000}, "trials"),
    ],
)
def test_a_sweep_spec_is_bounded_like_a_request(
    acme: Caller, change: dict[str, Any], field: str
) -> None:
    _refused(acme, "/api/v1/sweeps", {**SWEEP, **change}, field)


def test_walkforward_windows_must_fit_the_data(acme: Caller) -> None:
    _refused(acme, "/api/v1/walkforward", {**WALKFORWARD, "train_bars": 9_000_000}, "train_bars")


def test_another_tenants_dataset_is_refused(make_caller: Callable[[str], Caller]) -> None:
    owner, other = make_caller("alpha"), make_caller("beta")
    up = _upload(owner.client, "MINE", _csv(synthetic_bars(600, seed=1)), "mine.csv")
    assert up.status_code == 201, up.text
    mine = {**SWEEP, "data": "MINE"}
    assert owner.client.post("/api/v1/sweeps", json=mine).status_code == 202
    error = _refused(other, "/api/v1/sweeps", mine, "data")
    assert "MINE" not in error["message"].split("registered:")[1]


def test_same_idempotency_key_gives_the_same_job(acme: Caller) -> None:
    headers = {"Idempotency-Key": "spec-1"}
    first = acme.client.post("/api/v1/sweeps", json=SWEEP, headers=headers)
    again = acme.client.post("/api/v1/sweeps", json=SWEEP, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = acme.client.post("/api/v1/sweeps", json={**SWEEP, "top": 3}, headers=headers)
    assert other.status_code == 409, other.text
