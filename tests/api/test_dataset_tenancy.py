"""Datasets belong to the tenant that uploaded them: another tenant never lists them, never
learns their file names, cannot replace them, and a job resolves a ticker in its own tenant
first, then in the shared data (operator imports and bundled samples, read-only over the API).

Each test runs on SQLite and PostgreSQL against a real server."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tradesweep.data import DatasetRegistry, load_sample, synthetic_bars
from tradesweep.store import ApiKeyRepository, TenantRepository
from tradesweep.store.db import make_engine, session_factory

from .conftest import Caller


def _csv(bars: pd.DataFrame) -> bytes:
    out = io.StringIO()
    frame = bars[["open", "high", "low", "close", "volume"]].copy()
    frame.index = frame.index.strftime("%Y-%m-%d")
    frame.index.name = "Date"
    frame.to_csv(out)
    return out.getvalue().encode()


def _upload(
    client: httpx.Client, ticker: str, content: bytes, name: str, *, overwrite: bool = False
) -> httpx.Response:
    data = {"ticker": ticker, **({"overwrite": "true"} if overwrite else {})}
    return client.post("/api/v1/datasets", data=data, files={"file": (name, content, "text/csv")})


def _listed(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/datasets")
    assert response.status_code == 200, response.text
    return {d["ticker"]: d for d in response.json()["datasets"]}


def test_an_upload_is_seen_only_by_its_tenant(make_caller: Callable[[str], Caller]) -> None:
    a, b = make_caller("alpha"), make_caller("beta")
    up = _upload(a.client, "MINE", _csv(synthetic_bars(60, seed=1)), "alpha-secret-plan.csv")
    assert up.status_code == 201, up.text
    assert up.json()["scope"] == "tenant"
    assert up.json()["source"] == "alpha-secret-plan.csv"  # its own tenant sees its file name

    assert "MINE" in _listed(a.client)
    b_list = b.client.get("/api/v1/datasets")
    assert "MINE" not in {d["ticker"] for d in b_list.json()["datasets"]}
    assert "alpha-secret-plan" not in b_list.text

    # B may use the same name: it becomes B's own dataset; A's is untouched.
    mine_b = _upload(b.client, "MINE", _csv(synthetic_bars(90, seed=2)), "beta.csv")
    assert mine_b.status_code == 201, mine_b.text
    assert _listed(a.client)["MINE"]["bars"] == 60
    assert _listed(b.client)["MINE"]["bars"] == 90
    assert "beta.csv" not in a.client.get("/api/v1/datasets").text

    # B replacing "MINE" replaces B's own, never A's.
    again = _upload(b.client, "MINE", _csv(synthetic_bars(70, seed=3)), "b2.csv", overwrite=True)
    assert again.status_code == 201, again.text
    assert _listed(a.client)["MINE"]["bars"] == 60
    assert _listed(b.client)["MINE"]["bars"] == 70


def test_a_tenant_cannot_replace_shared_or_bundled_data(
    make_caller: Callable[[str], Caller], data_dir: Path, tmp_path: Path
) -> None:
    a, b = make_caller("alpha"), make_caller("beta")
    operator_file = tmp_path / "operator-private-name.csv"
    operator_file.write_bytes(_csv(synthetic_bars(50, seed=4)))
    DatasetRegistry(data_dir).import_file(operator_file, "OPSDATA")

    for caller in (a, b):
        listed = _listed(caller.client)
        assert listed["OPSDATA"]["scope"] == "shared"
        assert listed["GOOGL"]["scope"] == "bundled"
        assert "operator-private-name" not in caller.client.get("/api/v1/datasets").text

    content = _csv(synthetic_bars(40, seed=5))
    for ticker, overwrite in [("OPSDATA", False), ("OPSDATA", True), ("googl", True)]:
        refused = _upload(b.client, ticker, content, "x.csv", overwrite=overwrite)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["error"] == "dataset_read_only"
        assert body["details"]["field"] == "ticker"
        assert "read-only" in body["message"]
    assert _listed(a.client)["OPSDATA"]["bars"] == 50
    assert DatasetRegistry(data_dir).info("OPSDATA").rows == 50


def test_an_own_ticker_needs_overwrite_409(acme: Caller) -> None:
    content = _csv(synthetic_bars(40, seed=6))
    assert _upload(acme.client, "OWNED", content, "a.csv").status_code == 201
    again = _upload(acme.client, "OWNED", content, "a.csv")
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "dataset_exists"
    assert again.json()["details"]["field"] == "ticker"
    assert "overwrite" in again.json()["message"]


def test_a_submission_only_accepts_the_callers_own_or_shared_tickers(
    make_caller: Callable[[str], Caller], sweep_json: dict[str, object]
) -> None:
    a, b = make_caller("alpha"), make_caller("beta")
    for ticker in ("ONLYA", "SECRETA"):
        up = _upload(a.client, ticker, _csv(synthetic_bars(300, seed=7)), "a.csv")
        assert up.status_code == 201, up.text
    body = {**sweep_json, "ticker": "ONLYA"}
    body.pop("webhook_url")
    assert a.client.post("/api/v1/strategy/sweep", json=body).status_code == 202
    refused = b.client.post("/api/v1/strategy/sweep", json=body)
    assert refused.status_code == 422, refused.text
    assert "unknown ticker 'ONLYA'" in refused.text
    assert "SECRETA" not in refused.text  # the known tickers named are B's own and shared


# ---- a real `tradesweep serve` with a worker: each tenant's sweep reads its own data -------


def _add_tenant(database_url: str, name: str) -> str:
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            tenant = TenantRepository(session).get_or_create(name)
            return ApiKeyRepository(session).create(tenant).key
    finally:
        engine.dispose()


def _finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_tenants_sweep_reads_its_own_dataset_of_the_same_name(
    backend: str, run_serve: Callable[..., Any], fresh_database: Callable[[str], str]
) -> None:
    served = run_serve(database_url=fresh_database(backend) if backend == "postgresql" else None)
    other = _add_tenant(served.database_url, "beta")
    googl = load_sample("GOOGL")
    sweep = {
        "ticker": "SAME",
        "fast_range": [5, 10],
        "slow_range": [20, 30],
        "step": 5,
        "min_trades": 10,
        "strategy_type": "SMA",
        "config_path": "minimum",
    }
    b_client = httpx.Client(base_url=served.url, headers={"X-API-Key": other}, timeout=30)
    with served.client() as a, b_client as b:
        assert _upload(a, "SAME", _csv(googl.iloc[:900]), "a.csv").status_code == 201
        assert _upload(b, "SAME", _csv(googl.iloc[900:1500]), "b.csv").status_code == 201
        submitted = [c.post("/api/v1/strategy/sweep", json=sweep) for c in (a, b)]
        assert [r.status_code for r in submitted] == [202, 202], submitted[0].text
        jobs = [r.json()["job_id"] for r in submitted]
        job_a, job_b = _finished(a, jobs[0]), _finished(b, jobs[1])
        assert (job_a["status"], job_b["status"]) == ("completed", "completed"), (job_a, job_b)
        assert job_a["metrics"]["bars"] == 900
        assert job_b["metrics"]["bars"] == 600
        assert job_a["result"]["best"] != job_b["result"]["best"]
        # A shared ticker still resolves for both.
        shared = {**sweep, "ticker": "GOOGL"}
        job = _finished(b, b.post("/api/v1/strategy/sweep", json=shared).json()["job_id"])
        assert job["status"] == "completed" and job["metrics"]["bars"] == len(googl)


def test_an_upload_of_pandas_to_csv_output_needs_no_renaming(acme: Caller) -> None:
    bars = synthetic_bars(40, seed=8)
    frame = bars[["open", "high", "low", "close", "volume"]].rename(columns=str.title)
    content = frame.rename_axis(None).to_csv().encode()
    assert content.startswith(b",Open,High,Low,Close,Volume")
    response = _upload(acme.client, "FRAME", content, "frame.csv")
    assert response.status_code == 201, response.text
    assert _listed(acme.client)["FRAME"]["bars"] == 40
