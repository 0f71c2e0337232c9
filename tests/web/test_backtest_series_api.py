"""GET /api/v1/backtests/{id}/series: bars, equity, drawdown and monthly returns replayed
from the stored spec, equal to a direct run of that spec."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.data import DatasetRegistry, synthetic_bars
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.services.execute import BacktestOutcome, execute
from tradesweep.specs import BacktestSpec
from tradesweep.store import BacktestRepository, TenantRepository

SPEC = {"data": "GOOGL", "strategy": "sma_crossover", "params": {"fast": 10, "slow": 30}}


@pytest.fixture
def store_backtest(
    web_sessions: sessionmaker[Session], data_dir: Path
) -> Callable[[str, dict[str, Any]], str]:
    """Factory: run ``spec`` and store it for ``tenant`` as a worker would; the run id."""

    def store(tenant: str, spec: dict[str, Any]) -> str:
        outcome = execute("backtest", spec, registry=DatasetRegistry(data_dir))
        assert isinstance(outcome, BacktestOutcome)
        with web_sessions.begin() as s:
            owner = TenantRepository(s).get_or_create(tenant)
            run = BacktestRepository(s).write(
                tenant_id=owner.id,
                spec=outcome.spec,
                metrics=outcome.metrics,
                trades=outcome.trades,
                index=outcome.index,
                spec_id=outcome.spec_id,
                ticker=outcome.ticker,
                strategy=outcome.strategy,
            )
            return run.id

    return store


def test_series_equal_a_direct_run_of_the_spec(
    client: httpx.Client, store_backtest: Callable[[str, dict[str, Any]], str]
) -> None:
    run_id = store_backtest("acme", SPEC)
    response = client.get(f"/api/v1/backtests/{run_id}/series")
    assert response.status_code == 200, response.text
    body = response.json()
    report = run_backtest_spec(BacktestSpec.from_dict(SPEC))
    equity = report.equity_frame()
    assert (body["bars"], body["points"], body["bucket_bars"]) == (2335, 2335, 1)
    assert body["ticker"] == "GOOGL"
    assert body["close"] == report.bars["close"].tolist()
    assert body["equity"] == equity["equity"].tolist()
    assert body["drawdown_pct"] == equity["drawdown_pct"].tolist()
    assert body["timestamps"][0].startswith("2009-")
    assert body["initial_cash"] == 10_000.0
    assert body["matches_stored"] is True
    assert body["note"] is None
    months = {(m["year"], m["month"]): m["return_pct"] for m in body["monthly_returns"]}
    assert months[(2010, 1)] == pytest.approx(report.monthly_returns.loc[2010, 1])
    compounded = 1.0
    for value in months.values():
        compounded *= 1 + value / 100
    assert compounded == pytest.approx(report.result.final_equity / 10_000.0)


def test_long_data_is_merged_into_ohlc_buckets(
    client: httpx.Client, store_backtest: Callable[[str, dict[str, Any]], str]
) -> None:
    run_id = store_backtest("acme", SPEC)
    body = client.get(f"/api/v1/backtests/{run_id}/series", params={"max_points": 1000}).json()
    report = run_backtest_spec(BacktestSpec.from_dict(SPEC))
    bars = report.bars
    assert (body["bucket_bars"], body["points"]) == (3, 779)
    assert body["open"][0] == bars["open"].iloc[0]
    assert body["high"][0] == bars["high"].iloc[:3].max()
    assert body["low"][0] == bars["low"].iloc[:3].min()
    assert body["close"][0] == bars["close"].iloc[2]
    assert body["equity"][-1] == report.result.final_equity
    assert min(body["drawdown_pct"]) == pytest.approx(report.metrics["max_drawdown_pct"])


def test_replaced_data_is_flagged(
    client: httpx.Client,
    store_backtest: Callable[[str, dict[str, Any]], str],
    data_dir: Path,
) -> None:
    registry = DatasetRegistry(data_dir)
    registry.register_frame(synthetic_bars(800, seed=1), "SYNX", synthetic=True)
    run_id = store_backtest("acme", {**SPEC, "data": "SYNX"})
    registry.register_frame(synthetic_bars(800, seed=2), "SYNX", synthetic=True, overwrite=True)
    body = client.get(f"/api/v1/backtests/{run_id}/series").json()
    assert body["matches_stored"] is False
    assert "the data of SYNX changed since it ran" in body["note"]


def test_another_tenants_run_is_404(
    make_client: Callable[[str], httpx.Client],
    store_backtest: Callable[[str, dict[str, Any]], str],
) -> None:
    run_id = store_backtest("acme", SPEC)
    other = make_client("globex")
    response = other.get(f"/api/v1/backtests/{run_id}/series")
    assert response.status_code == 404
    assert response.json()["details"]["field"] == "backtest_run_id"


def test_bad_max_points_is_422_and_no_key_is_401(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    response = client.get("/api/v1/backtests/x/series", params={"max_points": 5})
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "max_points"
    assert anonymous.get("/api/v1/backtests/x/series").status_code == 401
