"""Jobs: read one (progress from its events), list with filters and cursors, cancel;
backtest and walk-forward submissions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradesweep.store import Job, JobRepository, JobStatus, JobType
from tradesweep.store.types import utcnow

Caller = Any
SWEEP = "/api/v1/strategy/sweep"


def test_job_shows_status_progress_and_timestamps(
    acme: Caller, sessions: sessionmaker[Session], sweep_json: dict[str, Any]
) -> None:
    job_id = acme.client.post(SWEEP, json=sweep_json).json()["job_id"]
    queued = acme.client.get(f"/api/v1/jobs/{job_id}").json()
    assert queued["status"] == "queued" and queued["type"] == "sweep"
    assert queued["progress"] == {"percent": 0.0, "message": "waiting for a worker"}
    assert queued["parameters"]["ticker"] == "GOOGL"
    assert queued["started_at"] is None and queued["result"] is None

    with sessions.begin() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.progress, job.started_at = JobStatus.RUNNING, 37.5, utcnow()
        repo = JobRepository(s)
        repo.append_event(job_id, "progress", {"percent": 12.5, "message": "1 of 8"})
        repo.append_event(job_id, "progress", {"percent": 37.5, "message": "3 of 8 combinations"})
    running = acme.client.get(f"/api/v1/jobs/{job_id}").json()
    assert running["status"] == "running"
    assert running["progress"] == {"percent": 37.5, "message": "3 of 8 combinations"}
    assert running["started_at"] is not None

    with sessions.begin() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.progress, job.completed_at = JobStatus.COMPLETED, 100.0, utcnow()
        job.result = {"sweep_run_id": "run-1", "total_combinations": 8}
        job.metrics = {"duration_seconds": 1.2, "combinations_tested": 8}
    done = acme.client.get(f"/api/v1/jobs/{job_id}").json()
    assert done["status"] == "completed" and done["metrics"]["combinations_tested"] == 8
    assert done["result"]["sweep_run_id"] == "run-1"
    assert done["links"]["best"] == "/api/v1/sweeps/run-1/best"


def test_list_filters_and_pages(acme: Caller, sweep_json: dict[str, Any]) -> None:
    ids = [
        acme.client.post(SWEEP, json={**sweep_json, "step": s}).json()["job_id"] for s in (1, 2, 3)
    ]
    eurusd = acme.client.post(SWEEP, json={**sweep_json, "ticker": "EURUSD"}).json()["job_id"]
    backtest = acme.client.post(
        "/api/v1/backtests", json={"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
    ).json()["job_id"]

    everything = acme.client.get("/api/v1/jobs").json()
    assert [j["job_id"] for j in everything["jobs"]] == [backtest, eurusd, *reversed(ids)]
    assert everything["next_cursor"] is None

    sweeps = acme.client.get("/api/v1/jobs", params={"type": "sweep", "ticker": "googl"}).json()
    assert [j["job_id"] for j in sweeps["jobs"]] == list(reversed(ids))
    assert acme.client.get("/api/v1/jobs?status=running").json()["jobs"] == []

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = acme.client.get("/api/v1/jobs", params=params).json()
        seen += [j["job_id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [j["job_id"] for j in everything["jobs"]]

    bad = acme.client.get("/api/v1/jobs?status=sleeping")
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "status"
    cursor_error = acme.client.get("/api/v1/jobs?cursor=zzz")
    assert cursor_error.status_code == 422 and "cursor" in cursor_error.json()["message"]


def test_the_list_shows_each_completed_jobs_result_in_summary(
    acme: Caller, sessions: sessionmaker[Session], sweep_json: dict[str, Any]
) -> None:
    sweep_id = acme.client.post(SWEEP, json=sweep_json).json()["job_id"]
    queued_id = acme.client.post(SWEEP, json={**sweep_json, "step": 2}).json()["job_id"]
    best = {"params": {"fast": 5, "slow": 30}, "score": 0.4, "rank": 1, "metrics": {}}
    result = {
        "sweep_run_id": "run-1",
        "total_combinations": 8,
        "evaluated": 8,
        "best": best,
        "diagnostics": {"pbo": {"pbo": 0.2, "logits": [0.1] * 50}},
    }
    with sessions.begin() as s:
        job = s.get(Job, sweep_id)
        assert job is not None
        job.status, job.progress, job.completed_at = JobStatus.COMPLETED, 100.0, utcnow()
        job.result = result
    listed = {j["job_id"]: j for j in acme.client.get("/api/v1/jobs").json()["jobs"]}
    summary = {k: v for k, v in result.items() if k != "diagnostics"}
    assert listed[sweep_id]["result"] == summary
    assert listed[queued_id]["result"] is None
    assert acme.client.get(f"/api/v1/jobs/{sweep_id}").json()["result"] == result


def test_cancel_a_queued_job(acme: Caller, sweep_json: dict[str, Any]) -> None:
    job_id = acme.client.post(SWEEP, json=sweep_json).json()["job_id"]
    response = acme.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    again = acme.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert acme.client.post("/api/v1/jobs/nope/cancel").status_code == 404


def test_cancel_a_running_job_is_202(
    acme: Caller, sessions: sessionmaker[Session], sweep_json: dict[str, Any]
) -> None:
    job_id = acme.client.post(SWEEP, json=sweep_json).json()["job_id"]
    with sessions.begin() as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status = JobStatus.RUNNING
    response = acme.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "running" and response.json()["cancel_requested"]


def test_backtest_submission(acme: Caller, sessions: sessionmaker[Session]) -> None:
    from tradesweep.specs import BacktestSpec

    response = acme.client.post(
        "/api/v1/backtests",
        json={
            "ticker": "GOOGL",
            "strategy_type": "EMA",
            "parameters": {"fast": 12, "slow": 40},
            "settings": {"fees": 0.001},
        },
    )
    assert response.status_code == 202, response.text
    with sessions() as s:
        job = s.get(Job, response.json()["job_id"])
        assert job is not None and job.type is JobType.BACKTEST
        spec = BacktestSpec.from_dict(job.parameters["spec"])
    assert spec.strategy == "ema_crossover" and dict(spec.params) == {"fast": 12, "slow": 40}
    assert spec.settings.fees == 0.001

    for body, field in [
        ({"ticker": "GOOGL", "parameters": {"fast": 40, "slow": 12}}, None),
        ({"ticker": "GOOGL", "parameters": {"fats": 4}}, None),
        ({"ticker": "GOOGL", "settings": {"fees": -1}}, "fees"),
        ({"ticker": "NOPE"}, "ticker"),
    ]:
        error = acme.client.post("/api/v1/backtests", json=body)
        assert error.status_code == 422, body
        if field:
            assert field in error.json()["message"]


def test_walkforward_submission(acme: Caller, sessions: sessionmaker[Session]) -> None:
    from tradesweep.specs import WalkForwardSpec

    body = {
        "ticker": "GOOGL",
        "fast_range": [10, 20],
        "slow_range": [30, 50],
        "step": 5,
        "train_bars": 500,
        "test_bars": 100,
    }
    response = acme.client.post("/api/v1/walkforward", json=body)
    assert response.status_code == 202, response.text
    with sessions() as s:
        job = s.get(Job, response.json()["job_id"])
        assert job is not None and job.type is JobType.WALKFORWARD
        spec = WalkForwardSpec.from_dict(job.parameters["spec"])
    assert (spec.train_bars, spec.test_bars, spec.step_bars) == (500, 100, 100)
    missing = acme.client.post("/api/v1/walkforward", json={**body, "train_bars": None})
    assert missing.status_code == 422
    overlap = acme.client.post("/api/v1/walkforward", json={**body, "step_bars": 50})
    assert overlap.status_code == 422 and overlap.json()["details"]["field"] == "step_bars"
