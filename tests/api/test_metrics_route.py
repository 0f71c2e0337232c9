"""``GET /metrics`` over a real server after real requests, parsed with prometheus-client's
own parser: requests by route template (never the raw path; ``unmatched`` for unknown
paths), latency by endpoint, submissions counted once per new job (not for an idempotent
replay), database gauges; the optional bearer token; ``X-Request-ID``. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api import ApiSettings, create_app
from tradesweep.api.telemetry import count_submissions
from tradesweep.observe import Metrics
from tradesweep.store import ApiKeyRepository, JobRepository, JobType, TenantRepository

Samples = dict[str, list[tuple[dict[str, str], float]]]
JOB_ROUTE = "/api/v1/jobs/{job_id}"
TOKEN = "scrape-token-123"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def parse(text: str) -> Samples:
    """Every sample by its full name (``..._total``, ``..._bucket``), with its labels."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for got, v in samples.get(name, []) if labels.items() <= got.items())


@pytest.fixture
def start(
    settings: ApiSettings, engine: Engine, serve_app: Callable[[object], str]
) -> Callable[..., tuple[str, FastAPI]]:
    def run(**changes: Any) -> tuple[str, FastAPI]:
        app = create_app(replace(settings, **changes), engine=engine)
        return serve_app(app), app

    return run


@pytest.fixture
def key(sessions: sessionmaker[Session]) -> str:
    with sessions.begin() as s:
        return ApiKeyRepository(s).create(TenantRepository(s).get_or_create("acme")).key


def test_metrics_count_requests_by_route_template_and_new_jobs_once(
    start: Callable[..., tuple[str, FastAPI]], key: str, sweep_json: dict[str, object]
) -> None:
    url, _ = start(metrics_token=TOKEN)
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
        first = client.post(
            "/api/v1/strategy/sweep", json=sweep_json, headers={"Idempotency-Key": "k1"}
        )
        replay = client.post(
            "/api/v1/strategy/sweep", json=sweep_json, headers={"Idempotency-Key": "k1"}
        )
        assert first.status_code == replay.status_code == 202
        assert replay.headers["Idempotent-Replayed"] == "true"
        backtest = client.post(
            "/api/v1/backtests", json={"ticker": "GOOGL", "fast_period": 10, "slow_period": 30}
        )
        assert backtest.status_code == 202
        job_id = first.json()["job_id"]
        for _ in range(3):
            assert client.get(f"/api/v1/jobs/{job_id}").status_code == 200
        assert client.get("/api/v1/jobs/not-a-job").status_code == 404
        assert client.get("/no/such/path/123").status_code == 404
        assert client.get("/assets/app.css").status_code == 200  # the dashboard's mount

        scraped = httpx.get(f"{url}/metrics", headers=SCRAPE)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = parse(scraped.text)
    requests = "pipeline_trading_http_requests_total"
    assert value(samples, requests, route=JOB_ROUTE, method="GET", code="200") == 3
    assert value(samples, requests, route=JOB_ROUTE, method="GET", code="404") == 1
    assert value(samples, requests, route="unmatched", code="404") == 1
    sweep_route = "/api/v1/strategy/sweep"
    assert value(samples, requests, route=sweep_route, method="POST", code="202") == 2
    assert value(samples, requests, route="/assets/{path}", code="200") == 1
    routes = {labels["route"] for labels, _ in samples[requests]}
    assert not any(job_id in r or "not-a-job" in r or "such" in r for r in routes), routes
    latency = "pipeline_trading_api_latency_seconds_count"
    assert value(samples, latency, endpoint=f"GET {JOB_ROUTE}") == 4

    # One sweep and one backtest were stored; the replay stored nothing and is not counted.
    submitted = "pipeline_trading_jobs_submitted_total"
    assert value(samples, submitted, type="sweep") == 1
    assert value(samples, submitted, type="backtest") == 1
    queued = "pipeline_trading_sweep_jobs_queued_total"
    assert value(samples, queued, ticker="GOOGL", strategy_type="SMA") == 1
    assert value(samples, "pipeline_trading_queue_depth") == 2  # read from the database


def test_without_a_configured_token_metrics_are_refused(
    start: Callable[..., tuple[str, FastAPI]], key: str
) -> None:
    """No token, no scrape: the tickers and Sharpe ratios of every tenant are not public."""
    url, _ = start(metrics_token=None)
    for headers in ({}, {"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        refused = httpx.get(f"{url}/metrics", headers=headers)
        assert refused.status_code == 403
        body = refused.json()
        assert body["error"] == "forbidden"
        assert "TRADESWEEP_METRICS_TOKEN" in body["message"] + body["details"]["fix"]
        assert "pipeline_trading" not in refused.text


def test_a_metrics_token_is_required_when_configured(
    start: Callable[..., tuple[str, FastAPI]], key: str
) -> None:
    url, _ = start(metrics_token="scrape-token-123")
    missing = httpx.get(f"{url}/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for wrong in ("Bearer nope", f"Bearer {key}", "Basic c2NyYXBlLXRva2VuLTEyMw=="):
        assert httpx.get(f"{url}/metrics", headers={"Authorization": wrong}).status_code == 401
    good = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert good.status_code == 200
    assert "pipeline_trading_queue_depth" in parse(good.text)


def test_every_answer_carries_a_request_id(start: Callable[..., tuple[str, FastAPI]]) -> None:
    url, app = start(metrics_token=TOKEN)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaput")

    generated = httpx.get(f"{url}/health").headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert httpx.get(f"{url}/health").headers["x-request-id"] != generated
    given = httpx.get(f"{url}/api/v1/jobs", headers={"X-Request-ID": "abc-123.retry:2"})
    assert given.status_code == 401 and given.headers["x-request-id"] == "abc-123.retry:2"
    for odd in ("has space", "x" * 200, "semi;colon"):
        echoed = httpx.get(f"{url}/health", headers={"X-Request-ID": odd}).headers
        assert echoed["x-request-id"] != odd and len(echoed["x-request-id"]) == 32
    crashed = httpx.get(f"{url}/boom")
    assert crashed.status_code == 500 and crashed.json()["error"] == "internal_error"
    assert len(crashed.headers["x-request-id"]) == 32
    samples = parse(httpx.get(f"{url}/metrics", headers=SCRAPE).text)
    requests = "pipeline_trading_http_requests_total"
    assert value(samples, requests, route="/boom", code="500") == 1


def test_only_committed_new_jobs_are_counted(sessions: sessionmaker[Session]) -> None:
    """A job is counted when the transaction that stored it commits: not when a savepoint
    inside it is released, not when it rolls back, not for an idempotent replay."""
    metrics = Metrics()
    counted = sessionmaker(sessions.kw["bind"], expire_on_commit=False)
    count_submissions(counted, metrics)

    def submitted() -> float:
        return value(
            parse(metrics.exposition()[0].decode()), "pipeline_trading_jobs_submitted_total"
        )

    with counted.begin() as s:
        tenant = TenantRepository(s).get_or_create("acme")
        JobRepository(s).create(tenant.id, JobType.SWEEP, {}, ticker="GOOGL", idempotency_key="a")
        assert submitted() == 0  # stored, not yet committed
    assert submitted() == 1
    with counted.begin() as s:
        replay = JobRepository(s).create(
            tenant.id, JobType.SWEEP, {}, ticker="GOOGL", idempotency_key="a"
        )
        assert not replay.created
    assert submitted() == 1
    with pytest.raises(RuntimeError), counted.begin() as s:
        JobRepository(s).create(tenant.id, JobType.BACKTEST, {}, ticker="GOOGL")
        raise RuntimeError("rolled back")
    assert submitted() == 1
    with counted() as reused:  # a session that rolls back, then commits something else
        JobRepository(reused).create(tenant.id, JobType.BACKTEST, {}, ticker="GOOGL")
        reused.rollback()
        reused.commit()
    assert submitted() == 1
