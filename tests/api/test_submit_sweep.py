"""``POST /api/v1/strategy/sweep``: the client's form and JSON, every rule, idempotency, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tradesweep.specs import SweepSpec
from tradesweep.store import Job, JobStatus, JobType

Caller = Any  # tests/api/conftest.py Caller: tenant, tenant_id, key, client
Form = dict[str, Any]

URL = "/api/v1/strategy/sweep"


def _job(sessions: sessionmaker[Session], job_id: str) -> Job:
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        return job


def test_form_as_the_client_sends_it_is_accepted(
    sweep_form: Form, acme: Caller, sessions: sessionmaker[Session], live_worker: str
) -> None:
    response = acme.client.post(URL, data=sweep_form)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["webhook_url"] == "https://example.com/hooks/sweep"
    assert body["parameters"]["combinations"] == 8  # 3 x 3 grid less fast=20/slow=20
    assert body["parameters"]["grid_combinations"] == 9
    assert body["parameters"]["strategy_type"] == "SMA"
    assert body["parameters"]["fast_range"] == [10, 20]
    assert body["estimated_duration_seconds"] > 0
    assert body["warnings"] == []  # a worker is alive
    assert body["created_at"].endswith("Z")
    assert response.headers["Location"] == f"/api/v1/jobs/{body['job_id']}"

    job = _job(sessions, body["job_id"])
    assert job.type is JobType.SWEEP and job.status is JobStatus.QUEUED
    assert job.ticker == "GOOGL" and job.tenant_id == acme.tenant_id
    spec = SweepSpec.from_dict(job.parameters["spec"])
    assert spec.strategy == "sma_crossover"
    assert spec.ranges == {
        "fast": {"min": 10, "max": 20, "step": 5},
        "slow": {"min": 20, "max": 30, "step": 5},
    }
    assert spec.min_trades == 50 and spec.preset == "minimum" and spec.objective == "score"
    assert job.parameters["request"]["min_trades"] == 50


def test_with_no_live_worker_the_answer_warns_instead_of_estimating(
    sweep_form: Form, acme: Caller
) -> None:
    body = acme.client.post(URL, data=sweep_form).json()
    assert body["status"] == "queued"
    assert body["estimated_duration_seconds"] is None
    assert "no worker is consuming the queue" in " ".join(body["warnings"])
    assert "tradesweep worker" in " ".join(body["warnings"])


def test_json_gives_the_same_job_parameters_as_the_form(
    sweep_form: Form, sweep_json: Form, acme: Caller, sessions: sessionmaker[Session]
) -> None:
    by_form = acme.client.post(URL, data=sweep_form).json()
    by_json = acme.client.post(URL, json=sweep_json).json()
    assert by_form["parameters"] == by_json["parameters"]
    form_job, json_job = _job(sessions, by_form["job_id"]), _job(sessions, by_json["job_id"])
    assert form_job.parameters == json_job.parameters


@pytest.mark.parametrize(
    "text",
    [
        {"fast_range": "[10, 20]", "slow_range": "[20, 30]"},
        {"fast_range": "10,20", "slow_range": "20:30"},
    ],
)
def test_ranges_as_one_form_field(sweep_form: Form, acme: Caller, text: dict[str, str]) -> None:
    form = {**sweep_form, **text}
    response = acme.client.post(URL, data=form)
    assert response.status_code == 202, response.text
    assert response.json()["parameters"]["combinations"] == 8


def test_macd_maps_fast_and_slow_and_other_builtins_take_ranges(
    sweep_json: Form, acme: Caller, sessions: sessionmaker[Session]
) -> None:
    macd = acme.client.post(
        URL, json={**sweep_json, "strategy_type": "MACD", "ranges": {"signal": [5, 9]}}
    )
    assert macd.status_code == 202, macd.text
    spec = SweepSpec.from_dict(_job(sessions, macd.json()["job_id"]).parameters["spec"])
    assert spec.strategy == "macd" and set(spec.ranges) == {"fast", "slow", "signal"}

    rsi = acme.client.post(
        URL,
        json={
            "ticker": "GOOGL",
            "strategy_type": "rsi",
            "ranges": {"period": {"min": 10, "max": 20}},
        },
    )
    assert rsi.status_code == 202, rsi.text
    assert rsi.json()["parameters"]["combinations"] == 11


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "details"}
    return body


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ticker": None}, "ticker", "Field required"),
        ({"fast_range": None}, "fast_range", "fast_range is required"),
        ({"slow_range": [10, 20]}, "slow_range", "fast periods must stay below slow ones"),
        ({"fast_range": [10, 30], "slow_range": [20, 30]}, "slow_range", "fast max < slow max"),
        ({"step": 0}, "step", "greater than or equal to 1"),
        ({"step": 51}, "step", "less than or equal to 50"),
        ({"min_trades": -1}, "min_trades", "greater than or equal to 0"),
        ({"fast_range": [0, 20]}, "fast_range", "within 1..500"),
        ({"slow_range": [20, 501]}, "slow_range", "within 1..500"),
        ({"fast_range": [20, 10]}, "fast_range", "send [10, 20]"),
        ({"fast_range": [10]}, "fast_range", "fast_range.1: Field required"),
        ({"ticker": "BTC-USD"}, "ticker", "POST /api/v1/datasets"),
        ({"ticker": "GO OG"}, "ticker", "must be 1-40 letters, digits or . _ - = ^"),
        ({"strategy_type": "SMMA"}, "strategy_type", "SMA, EMA, MACD"),
        ({"config_path": "/etc/passwd"}, "config_path", "minimum, standard"),
        (
            {"webhook_url": "ftp://x"},
            "webhook_url",
            "https:// URL of at most 2048 characters, got 'ftp://x'",
        ),
        ({"tiker": "GOOGL"}, "tiker", "did you mean 'ticker'?"),
        ({"fast_range": [1, 20]}, "fast_range", "between 2 and 500"),
    ],
)
def test_bad_requests_name_the_field_and_the_fix(
    sweep_json: Form, acme: Caller, change: dict[str, Any], field: str, words: str
) -> None:
    body = {k: v for k, v in {**sweep_json, **change}.items() if v is not None}
    error = _error(acme.client.post(URL, json=body), 422)
    assert error["details"].get("field", error["details"].get("parameter")) == field
    assert words in error["message"]
    assert "Traceback" not in error["message"]


def test_unknown_ticker_lists_the_registered_ones(sweep_form: Form, acme: Caller) -> None:
    error = _error(acme.client.post(URL, data={**sweep_form, "ticker": "BTC-USD"}), 422)
    assert "unknown ticker 'BTC-USD'" in error["message"]
    assert "EURUSD, GOOGL" in error["message"]


def test_any_ticker_data_import_accepts_is_accepted_by_jobs(
    sweep_json: Form, acme: Caller, data_dir: Path, tmp_path: Path
) -> None:
    from tradesweep.cli.main import app
    from tradesweep.data import load_sample

    csv = tmp_path / "x.csv"
    load_sample("GOOGL").to_csv(csv, index_label="Date")
    for ticker in ("X", "^GSPC", "A" * 40):
        imported = CliRunner().invoke(
            app,
            ["data", "import", str(csv), "--ticker", ticker],
            env={"TRADESWEEP_DATA_DIR": str(data_dir)},
        )
        assert imported.exit_code == 0, imported.output
        sweep = acme.client.post(URL, json={**sweep_json, "ticker": ticker.lower()})
        assert sweep.status_code == 202, sweep.text
        backtest = acme.client.post(
            "/api/v1/backtests", json={"ticker": ticker, "fast_period": 10, "slow_period": 30}
        )
        assert backtest.status_code == 202, backtest.text


def test_a_ticker_imported_into_the_data_dir_is_known(
    sweep_form: Form, acme: Caller, data_dir: Any
) -> None:
    from tradesweep.data import DatasetRegistry, load_sample

    DatasetRegistry(data_dir).register_frame(load_sample("GOOGL"), "BTC-USD")
    response = acme.client.post(URL, data={**sweep_form, "ticker": "BTC-USD"})
    assert response.status_code == 202, response.text


def test_empty_body_names_the_first_missing_field(acme: Caller) -> None:
    error = _error(acme.client.post(URL, json={}), 422)
    assert error["error"] == "validation_error"
    assert error["details"]["field"] == "ticker"


def test_invalid_json_and_other_media_types(acme: Caller) -> None:
    bad = acme.client.post(URL, content=b"{nope", headers={"Content-Type": "application/json"})
    assert _error(bad, 400)["error"] == "invalid_body"
    array = acme.client.post(URL, json=[1, 2])
    assert "JSON object" in _error(array, 400)["message"]
    xml = acme.client.post(URL, content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert _error(xml, 415)["error"] == "unsupported_media_type"


def test_body_over_the_limit_is_refused_with_413(acme: Caller) -> None:
    big = b'{"ticker": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    error = _error(acme.client.post(URL, content=big), 413)
    assert error["error"] == "payload_too_large"
    assert error["details"]["limit_bytes"] == 64 * 1024


def test_chunked_body_over_the_limit_is_refused_with_413(acme: Caller) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 4096

    error = _error(acme.client.post(URL, content=chunks()), 413)
    assert error["error"] == "payload_too_large"


def test_idempotency_key_returns_the_original_job(
    sweep_form: Form, sweep_json: Form, acme: Caller, sessions: sessionmaker[Session]
) -> None:
    headers = {"Idempotency-Key": "order-1"}
    first = acme.client.post(URL, json=sweep_json, headers=headers)
    again = acme.client.post(URL, data=sweep_form, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    with sessions() as s:
        assert s.query(Job).count() == 1


def test_idempotency_key_with_another_body_is_409(sweep_json: Form, acme: Caller) -> None:
    headers = {"Idempotency-Key": "order-2"}
    first = acme.client.post(URL, json=sweep_json, headers=headers)
    clash = acme.client.post(URL, json={**sweep_json, "step": 2}, headers=headers)
    error = _error(clash, 409)
    assert error["error"] == "idempotency_conflict"
    assert error["details"]["job_id"] == first.json()["job_id"]


def test_idempotency_keys_are_per_tenant(sweep_json: Form, acme: Caller, make_caller: Any) -> None:
    other = make_caller("globex")
    headers = {"Idempotency-Key": "shared"}
    mine = acme.client.post(URL, json=sweep_json, headers=headers).json()["job_id"]
    theirs = other.client.post(URL, json=sweep_json, headers=headers).json()["job_id"]
    assert mine != theirs
