"""``GET /health`` and what every endpoint answers while the database is down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tradesweep.api import ApiSettings, create_app
from tradesweep.store import JobRepository, JobType, TenantRepository
from tradesweep.store.models import WorkerRecord
from tradesweep.store.types import utcnow

Caller = Any


def test_healthy(anonymous: httpx.Client, db_url: str) -> None:
    response = anonymous.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy" and body["version"]
    assert body["timestamp"].endswith("Z")
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["database"]["backend"] == db_url.split(":")[0].split("+")[0]
    assert checks["workers"] == {"status": "none", "alive": 0, "running_jobs": 0}
    assert checks["queue_depth"] == 0
    assert checks["disk"]["status"] in ("ok", "low") and checks["disk"]["free_bytes"] > 0


def test_queue_depth_and_live_workers(anonymous: httpx.Client, sessions: Any) -> None:
    with sessions.begin() as s:
        tenant = TenantRepository(s).create("acme")
        for _ in range(3):
            JobRepository(s).create(tenant.id, JobType.SWEEP, {"spec": {}})
        s.add(WorkerRecord(id="w1", hostname="h", pid=1, heartbeat_at=utcnow()))
    checks = anonymous.get("/health").json()["checks"]
    assert checks["queue_depth"] == 3
    assert checks["workers"]["alive"] == 1 and checks["workers"]["status"] == "ok"


def _down_settings(tmp_path: Path) -> ApiSettings:
    # Nothing listens on port 9 of loopback: connection refused at once.
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2"
    return ApiSettings(database_url=url, data_dir=tmp_path, session_secret=b"s")


def test_unhealthy_when_the_database_is_unreachable(
    tmp_path: Path, serve_app: Callable[[object], str]
) -> None:
    url = serve_app(create_app(_down_settings(tmp_path)))
    response = httpx.get(f"{url}/health", timeout=30)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "unreachable"
    assert response.headers["Retry-After"] == "5"


def test_endpoints_answer_503_with_retry_after_when_the_database_is_down(
    tmp_path: Path, serve_app: Callable[[object], str]
) -> None:
    url = serve_app(create_app(_down_settings(tmp_path)))
    headers = {"X-API-Key": "ts_abcdefgh_whatever"}
    for method, path in (("GET", "/api/v1/jobs"), ("POST", "/api/v1/strategy/sweep")):
        response = httpx.request(method, f"{url}{path}", headers=headers, json={}, timeout=30)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        body = response.json()
        assert body["error"] == "database_unavailable"
        assert "Traceback" not in response.text


def test_unknown_paths_and_methods_answer_json(anonymous: httpx.Client) -> None:
    missing = anonymous.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = anonymous.delete("/health")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
