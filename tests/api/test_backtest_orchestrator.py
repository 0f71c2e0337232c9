"""The backtest orchestrator client's own requests, unchanged, against ``tradesweep serve`` (a
real process with its worker) on SQLite and PostgreSQL: its ``ma_crossover_strategy`` on
hourly ``EURUSD`` with ISO-8601 datetimes, answered with trades and ``signals_generated``."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Engine

from tradesweep.data import DatasetRegistry
from tradesweep.data.synth import synthetic_bars
from tradesweep.services.backtest import run_backtest_spec
from tradesweep.specs import BacktestSpec

RUN = "/api/backtest/run"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
ORCHESTRATOR_REQUEST = {
    "strategy_name": "ma_crossover_strategy",
    "symbol": "EURUSD",
    "timeframe": "1h",
    "start_date": "2024-02-01T00:00:00Z",
    "end_date": "2024-02-07T23:59:59Z",
    "initial_capital": 10000.0,
}
"""Exactly what the orchestrator's client posts."""


def eurusd_2024() -> pd.DataFrame:
    """Hourly EUR/USD-like bars for January to March 2024 (synthetic, seeded)."""
    hours = 24 * (31 + 29 + 31)
    return synthetic_bars(
        hours, seed=2024, interval="1h", start="2024-01-01", s0=1.08, volatility=0.08
    )


def register_eurusd(data_dir: Path) -> pd.DataFrame:
    """The 2024 bars registered as the server's shared ``EURUSD`` (the operator's
    ``tradesweep data import ... --ticker EURUSD --overwrite``), over the bundled 2017 sample."""
    bars = eurusd_2024()
    DatasetRegistry(data_dir).register_frame(bars, "EURUSD", overwrite=True, synthetic=True)
    return bars


def wait_done(client: httpx.Client, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/api/backtest/{job_id}/status")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, f"backtest {job_id} did not finish: {body}"
        time.sleep(0.2)


def test_the_orchestrator_request_as_written(
    run_serve: Callable[..., Any], db_url: str, engine: Engine
) -> None:
    served = run_serve(database_url=db_url)
    register_eurusd(served.data_dir)
    with served.client() as client:
        answer = client.post(RUN, json=ORCHESTRATOR_REQUEST)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        status = wait_done(client, job_id)
        assert status["status"] == "completed", status
        results = client.get(f"/api/backtest/{job_id}/results")
        assert results.status_code == 200, results.text
        got = results.json()

    spec = BacktestSpec.from_dict(
        {
            "data": "EURUSD",
            "strategy": "sma_crossover",
            "settings": {"cash": 10000.0},
            "timeframe": "1h",
            "start": "2024-02-01T00:00:00Z",
            "end": "2024-02-07T23:59:59Z",
        }
    )
    report = run_backtest_spec(spec, registry=DatasetRegistry(served.data_dir))
    assert report.bars.index[0] == pd.Timestamp("2024-02-01T00:00:00Z")
    assert report.bars.index[-1] == pd.Timestamp("2024-02-07T23:00:00Z")  # the end is inclusive
    trades = report.trade_records()
    assert got["total_trades"] == len(trades) > 0
    assert [t["pnl"] for t in got["trades"]] == pytest.approx([t["pnl"] for t in trades])
    assert got["strategy_name"] == "ma_crossover_strategy" and got["symbol"] == "EURUSD"
    assert got["start_date"] == "2024-02-01T00:00:00Z"
    assert got["end_date"] == "2024-02-07T23:59:59Z"
    assert got["initial_capital"] == 10000.0
    signals = report.signals
    expected = int(
        (signals.long_entry | signals.long_exit | signals.short_entry | signals.short_exit).sum()
    )
    assert got["signals_generated"] == expected >= got["total_trades"]


def test_a_stored_orchestrator_file_with_a_day_and_a_datetime(
    run_serve: Callable[..., Any], db_url: str, engine: Engine
) -> None:
    served = run_serve(database_url=db_url)
    register_eurusd(served.data_dir)
    folder = served.data_dir / "strategies"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / "ma_crossover_orchestrator.yaml", folder)
    request = ORCHESTRATOR_REQUEST | {
        "strategy_name": "ma_crossover_orchestrator",
        "start_date": "2024-02-01",
        "end_date": "2024-02-29T12:00:00Z",
    }
    with served.client() as client:
        answer = client.post(RUN, json=request)
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["id"]
        assert wait_done(client, job_id)["status"] == "completed"
        got = client.get(f"/api/backtest/{job_id}/results").json()
    spec = BacktestSpec.from_dict(
        {
            "data": "EURUSD",
            "strategy": str(EXAMPLES / "ma_crossover_twin.yaml"),
            "settings": {"cash": 10000.0},
            "timeframe": "1h",
            "start": "2024-02-01",
            "end": "2024-02-29T12:00:00Z",
        }
    )
    report = run_backtest_spec(spec, registry=DatasetRegistry(served.data_dir))
    assert report.bars.index[-1] == pd.Timestamp("2024-02-29T12:00:00Z")
    trades = report.trade_records()
    assert got["total_trades"] == len(trades) > 0
    assert [t["pnl"] for t in got["trades"]] == pytest.approx([t["pnl"] for t in trades])
