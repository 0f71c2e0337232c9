"""POST /api/v1/sweeps/estimate and /api/v1/walkforward/estimate: the submission's counts and
duration, with the submission's validation, and nothing stored."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.store import ApiKeyRepository, TenantRepository

from .conftest import SECRET, ServerThread

SWEEP: dict[str, Any] = {
    "ticker": "GOOGL",
    "strategy_type": "SMA",
    "fast_range": [10, 20],
    "slow_range": [25, 40],
    "step": 5,
    "min_trades": 10,
}


def test_estimate_equals_what_the_submission_answers(
    client: httpx.Client, live_worker: str
) -> None:
    estimate = client.post("/api/v1/sweeps/estimate", json=SWEEP)
    assert estimate.status_code == 200, estimate.text
    assert client.get("/api/v1/jobs").json()["jobs"] == []  # nothing stored
    submitted = client.post("/api/v1/strategy/sweep", json=SWEEP).json()
    body = estimate.json()
    assert body["combinations"] == submitted["parameters"]["combinations"] == 12
    assert body["grid_combinations"] == submitted["parameters"]["grid_combinations"] == 12
    assert body["estimated_duration_seconds"] == submitted["estimated_duration_seconds"]
    assert body["bars"] == 2335
    assert body["strategy"] == "sma_crossover"


def test_invalid_combinations_are_not_counted(client: httpx.Client) -> None:
    body = {**SWEEP, "fast_range": [10, 20], "slow_range": [20, 30]}
    counts = client.post("/api/v1/sweeps/estimate", json=body).json()
    assert (counts["grid_combinations"], counts["combinations"]) == (9, 8)  # 20/20 refused


def test_form_fields_are_read_like_the_submission(client: httpx.Client) -> None:
    form = {
        "ticker": "GOOGL",
        "fast_range": ["10", "20"],
        "slow_range": ["25", "40"],
        "step": "5",
        "min_trades": "10",
    }
    assert client.post("/api/v1/sweeps/estimate", data=form).json()["combinations"] == 12


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"slow_range": [5, 30]}, "slow_range", "fast periods must stay below slow ones"),
        ({"ticker": "NOPE"}, "ticker", "unknown ticker 'NOPE'"),
        ({"step": 0}, "step", "greater than or equal to 1"),
        ({"strategy_type": "SMAA"}, "strategy_type", "unknown strategy"),
    ],
)
def test_validation_errors_name_the_field(
    client: httpx.Client, change: dict[str, Any], field: str, words: str
) -> None:
    response = client.post("/api/v1/sweeps/estimate", json={**SWEEP, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["details"]["field"] == field
    assert words in body["message"]


def test_parameter_out_of_its_schema_names_the_parameter(client: httpx.Client) -> None:
    body = {
        "ticker": "GOOGL",
        "strategy_type": "MACD",
        "fast_range": [10, 12],
        "slow_range": [26, 30],
        "ranges": {"signal": [1, 9]},
    }
    response = client.post("/api/v1/sweeps/estimate", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["error"] == "invalid_parameter"
    assert error["details"]["field"] == "ranges"
    assert error["details"]["path"] == "ranges.signal"
    assert "outside its bounds [2, 500]" in error["message"]


def test_other_parameters_sweep_through_ranges(client: httpx.Client) -> None:
    period = {"min": 10, "max": 20, "step": 2}
    body = {"ticker": "GOOGL", "strategy_type": "rsi", "ranges": {"period": period}}
    counts = client.post("/api/v1/sweeps/estimate", json=body).json()
    assert counts["combinations"] == 6
    assert counts["strategy"] == "rsi"
    listed = {**body, "ranges": {"period": [10, 20], "oversold": {"values": [25, 30]}}}
    assert client.post("/api/v1/sweeps/estimate", json=listed).json()["combinations"] == 4


def test_walkforward_estimate_checks_the_window_fields(
    client: httpx.Client, live_worker: str
) -> None:
    body = {**SWEEP, "train_bars": 500, "test_bars": 100}
    response = client.post("/api/v1/walkforward/estimate", json=body)
    assert response.status_code == 200, response.text
    submitted = client.post("/api/v1/walkforward", json=body).json()
    assert (
        response.json()["estimated_duration_seconds"] == (submitted["estimated_duration_seconds"])
    )
    missing = client.post("/api/v1/walkforward/estimate", json=SWEEP)
    assert missing.status_code == 422
    assert missing.json()["details"]["field"] == "train_bars"


def test_estimate_needs_a_key(anonymous: httpx.Client) -> None:
    assert anonymous.post("/api/v1/sweeps/estimate", json=SWEEP).status_code == 401


def test_a_grid_over_the_cap_is_refused_like_the_submission(client: httpx.Client) -> None:
    body = {
        "ticker": "GOOGL",
        "strategy_type": "MACD",
        "fast_range": [2, 499],
        "slow_range": [3, 500],
        "step": 1,
        "ranges": {"signal": {"min": 2, "max": 500, "step": 1}},
    }
    estimate = client.post("/api/v1/sweeps/estimate", json=body)
    submitted = client.post("/api/v1/strategy/sweep", json=body)
    assert estimate.status_code == submitted.status_code == 422
    assert estimate.json()["error"] == submitted.json()["error"]
    assert "above the limit" in estimate.json()["message"]
    assert client.get("/api/v1/jobs").json()["jobs"] == []


def test_the_servers_own_cap_applies(
    web_engine: Engine, web_sessions: sessionmaker[Session], data_dir: Path
) -> None:
    settings = ApiSettings(
        database_url=str(web_engine.url), data_dir=data_dir, session_secret=SECRET
    )
    settings = dataclasses.replace(settings, max_sweep_combinations=10)
    with web_sessions.begin() as s:
        key = ApiKeyRepository(s).create(TenantRepository(s).get_or_create("capped")).key
    with (
        ServerThread(create_app(settings, engine=web_engine)) as server,
        httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as capped,
    ):
        response = capped.post("/api/v1/sweeps/estimate", json=SWEEP)  # a 12-cell grid
        assert response.status_code == 422
        assert "above the limit of 10" in response.json()["message"]
