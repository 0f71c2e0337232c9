"""The replaced backtest orchestrator's endpoints, exactly as its clients call them, against a
real server and a real worker on SQLite and PostgreSQL: ``POST /api/backtest/run``, poll
``/status`` until completed, ``/results``; a built-in and a stored YAML strategy, resampled
and sliced, checked against the same backtest run in process; bad input named."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradesweep.api import ApiSettings
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec

Caller = Any
RUN = "/api/backtest/run"
REPO = Path(__file__).resolve().parents[2]
GOLDEN_CROSS = REPO / "examples" / "strategies" / "golden_cross.yaml"


@pytest.fixture
def stored_strategies(settings: ApiSettings) -> Path:
    """The server's strategies folder with ``golden_cross.yaml`` stored in it."""
    folder = settings.strategies_dir
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(GOLDEN_CROSS, folder / "golden_cross.yaml")
    return folder


def wait_done(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/backtest/{job_id}/status")
        assert status.status_code == 200, status.text
        body = status.json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, f"backtest {job_id} did not finish: {body}"
        time.sleep(0.2)


def oracle(strategy: str, **window: Any) -> Any:
    """The same backtest run in this process."""
    spec = BacktestSpec.from_dict(
        {"data": "GOOGL", "strategy": strategy, "params": {}, "settings": window.pop("settings")}
        | window
    )
    return run_backtest_spec(spec)


def check_results(results: dict[str, Any], report: Any) -> None:
    trades = report.trade_records()
    assert len(results["trades"]) == results["total_trades"] == len(trades) > 0
    pnls = [t["pnl"] for t in results["trades"]]
    assert pnls == pytest.approx([t["pnl"] for t in trades])
    assert results["total_pnl"] == pytest.approx(sum(pnls))
    assert results["winning_trades"] == sum(p > 0 for p in pnls)
    assert results["losing_trades"] == sum(p < 0 for p in pnls)
    for key in ("total_return_pct", "sharpe_ratio", "max_drawdown_pct", "total_trades"):
        assert results["metrics"][key] == pytest.approx(report.metrics[key]), key


def test_run_a_builtin_poll_the_status_read_the_results(
    acme: Caller, start_worker: Callable[[], None]
) -> None:
    request = {
        "strategy_name": "sma_crossover",
        "symbol": "GOOGL",
        "timeframe": "1d",
        "start_date": "2011-01-01",
        "end_date": "2016-12-31",
        "initial_capital": 50000,
    }
    answer = acme.client.post(RUN, json=request)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["id"] == body["job_id"] and body["status"] == "queued"
    job_id = body["id"]
    assert answer.headers["Location"] == f"/api/backtest/{job_id}/status"

    early = acme.client.get(f"/api/backtest/{job_id}/results")
    assert early.status_code == 409
    assert early.json()["error"] == "not_ready"
    assert early.json()["details"]["status"] == "queued"

    start_worker()
    status = wait_done(acme.client, job_id)
    assert status["status"] == "completed", status
    assert status["progress"] == 100.0 and status["completed_at"] is not None

    results = acme.client.get(f"/api/backtest/{job_id}/results")
    assert results.status_code == 200, results.text
    got = results.json()
    assert got["id"] == job_id and got["status"] == "completed"
    assert (got["strategy_name"], got["symbol"], got["initial_capital"]) == (
        "sma_crossover",
        "GOOGL",
        50000,
    )
    report = oracle(
        "sma_crossover",
        settings={"cash": 50000.0},
        timeframe="1d",
        start="2011-01-01",
        end="2016-12-31",
    )
    assert report.bars.index[0].year == 2011 and report.bars.index[-1].year == 2016
    check_results(got, report)
    assert got["trades"][0]["entry_time"] >= "2011-01-01"
    assert got["trades"][-1]["exit_time"] < "2017-01-01"
    # an ordinary backtest job: the v1 API shows it too
    assert acme.client.get(f"/api/v1/jobs/{job_id}").json()["type"] == "backtest"


def test_a_stored_yaml_strategy_on_weekly_bars(
    acme: Caller, stored_strategies: Path, start_worker: Callable[[], None]
) -> None:
    request = {
        "strategy_name": "golden_cross",
        "symbol": "googl",
        "timeframe": "1w",
        "start_date": "2006-01-01",
        "initial_capital": 10000,
        "parameters": {"fast": 10, "slow": 40},
    }
    answer = acme.client.post(RUN, json=request)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    start_worker()
    assert wait_done(acme.client, job_id)["status"] == "completed"
    got = acme.client.get(f"/api/backtest/{job_id}/results").json()
    spec = BacktestSpec.from_dict(
        {
            "data": "GOOGL",
            "strategy": str(stored_strategies / "golden_cross.yaml"),
            "params": {"fast": 10, "slow": 40},
            "settings": {"cash": 10000.0},
            "timeframe": "1w",
            "start": "2006-01-01",
        }
    )
    report = run_backtest_spec(spec)
    assert report.strategy.name == "golden_cross"
    check_results(got, report)
    assert got["symbol"] == "GOOGL" and got["timeframe"] == "1w"


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"strategy_name": "turtle"}, "strategy_name", "invalid_strategy"),
        ({"strategy_name": "../../etc/passwd"}, "strategy_name", "invalid_strategy"),
        ({"symbol": "NOPE"}, "symbol", "validation_error"),
        ({"timeframe": "4x"}, "timeframe", "validation_error"),
        ({"timeframe": "4h"}, "timeframe", "invalid_data"),  # finer than the daily bars
        ({"start_date": "2016-02-30"}, "start_date", "validation_error"),
        ({"start_date": "2016-01-01", "end_date": "2015-01-01"}, "end_date", "validation_error"),
        ({"start_date": "2090-01-01"}, "start_date", "invalid_data"),
        ({"end_date": "1990-01-01"}, "end_date", "invalid_data"),
        ({"initial_capital": -5}, "initial_capital", "validation_error"),
        ({"parameters": {"fats": 10}}, "parameters", "invalid_parameter"),
        ({"parameters": {"fast": 50, "slow": 20}}, "parameters", "invalid_parameter"),
        ({"capital": 5}, "capital", "validation_error"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    acme: Caller, change: dict[str, Any], field: str, error: str
) -> None:
    request = {"strategy_name": "SMA", "symbol": "GOOGL", **change}
    answer = acme.client.post(RUN, json=request)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert set(body) == {"error", "message", "details"}
    assert body["error"] == error
    assert body["details"]["field"] == field


def test_ids_are_per_tenant_and_per_kind(
    acme: Caller, make_caller: Callable[[str], Caller], sweep_json: dict[str, Any]
) -> None:
    job_id = acme.client.post(RUN, json={"strategy_name": "EMA", "symbol": "EURUSD"}).json()["id"]
    sweep = acme.client.post("/api/v1/strategy/sweep", json=sweep_json).json()["job_id"]
    other = make_caller("globex")
    for client, wanted, status in (
        (acme.client, "no-such-id", 404),
        (acme.client, sweep, 404),  # a sweep is not a backtest
        (other.client, job_id, 404),  # another tenant's
        (acme.client, job_id, 200),
    ):
        answer = client.get(f"/api/backtest/{wanted}/status")
        assert answer.status_code == status, (wanted, answer.text)
        if status == 404:
            assert answer.json()["error"] == "not_found"
            assert client.get(f"/api/backtest/{wanted}/results").status_code == 404
    assert httpx.post(f"{acme.client.base_url}{RUN}", json={}).status_code == 401
