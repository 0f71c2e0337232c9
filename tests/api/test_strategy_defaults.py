"""The server's strategy default overrides (``ApiSettings.strategy_defaults``, read by
``serve`` from ``$TRADESWEEP_STRATEGY_DEFAULTS``) are what the API lists and checks requests
against: the same values its workers run with."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradesweep.api import ApiSettings
from tradesweep.environment import RuntimeSettings

from .conftest import SECRET, Caller

OVERRIDE = "sma_crossover:\n  fast: 20\n  slow: {default: 100, max: 2000}\n"


@pytest.fixture
def settings(db_url: str, data_dir: Path, tmp_path: Path) -> ApiSettings:
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text(OVERRIDE)
    return ApiSettings(
        database_url=db_url,
        data_dir=data_dir,
        session_secret=SECRET,
        strategy_defaults=defaults,
    )


def test_the_strategies_listed_carry_the_servers_defaults(acme: Caller) -> None:
    shown = acme.client.get("/api/v1/strategies/sma_crossover")
    assert shown.status_code == 200, shown.text
    params = {p["name"]: p for p in shown.json()["parameters"]}
    assert (params["fast"]["default"], params["slow"]["default"]) == (20, 100)
    assert params["slow"]["max"] == 2000


def test_requests_are_checked_against_the_overridden_bounds(acme: Caller) -> None:
    body = {"ticker": "GOOGL", "fast_period": 10, "slow_period": 1500}  # packaged max: 1000
    response = acme.client.post("/api/v1/backtests", json=body)
    assert response.status_code == 202, response.text


def test_serve_reads_the_defaults_from_the_environment(tmp_path: Path) -> None:
    runtime = RuntimeSettings.from_environ(
        {
            "TRADESWEEP_DATA_DIR": str(tmp_path),
            "TRADESWEEP_STRATEGY_DEFAULTS": str(tmp_path / "d.yaml"),
        }
    )
    settings = ApiSettings.from_env("sqlite://", runtime=runtime)
    assert settings.strategy_defaults == tmp_path / "d.yaml"
    assert settings.data_dir == tmp_path
    assert (tmp_path / "session-secret").is_file()  # the state dir the runtime named


def test_a_posted_spec_records_the_servers_defaults(acme: Caller, tmp_path: Path) -> None:
    """A spec posted as is runs with the server's defaults, recorded in the job's spec; a
    spec naming the same defaults (printed where the same override applies) is taken, one
    naming others (wider bounds) is refused."""
    spec = {"data": "GOOGL", "strategy": "sma_crossover", "params": {"slow": 1500}}
    answer = acme.client.post("/api/v1/backtests", json=spec)
    assert answer.status_code == 202, answer.text
    job = acme.client.get(f"/api/v1/jobs/{answer.json()['job_id']}").json()
    recorded = job["parameters"]["defaults"]  # the request as validated: the spec
    assert recorded["slow"] == {"default": 100, "max": 2000}

    again = acme.client.post("/api/v1/backtests", json={**spec, "defaults": recorded})
    assert again.status_code == 202, again.text
    wider = {**recorded, "slow": {"default": 100, "max": 100_000}}
    refused = acme.client.post("/api/v1/backtests", json={**spec, "defaults": wider})
    assert refused.status_code == 422, refused.text
    assert refused.json()["details"]["field"] == "defaults"
