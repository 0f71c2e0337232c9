"""``GET /health`` and what every endpoint answers while the database is down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from tradesweep.api import ApiSettings, create_app
from tradesweep.store import JobRepository, JobType
from tradesweep.store.models import WorkerRecord
from tradesweep.store.types import utcnow

Caller = Any


def _live_worker(sessions: Any, worker_id: str = "w1") -> None:
    """A row of the workers table with a fresh heartbeat, as a running worker keeps it."""
    with sessions.begin() as s:
        s.add(WorkerRecord(id=worker_id, hostname="h", pid=1, heartbeat_at=utcnow()))


def test_anyone_gets_the_status_only(anonymous: httpx.Client, sessions: Any) -> None:
    _live_worker(sessions)
    response = anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


def test_degraded_while_no_worker_consumes_the_queue_even_an_empty_one(
    anonymous: httpx.Client, acme: Caller
) -> None:
    response = anonymous.get("/health")
    assert response.status_code == 200  # the API itself serves
    assert response.json() == {"status": "degraded"}
    workers = anonymous.get("/health", headers={"X-API-Key": acme.key}).json()["checks"]["workers"]
    assert workers["status"] == "none" and workers["alive"] == 0
    assert "no live worker" in workers["message"] and "tradesweep worker" in workers["message"]


def test_a_key_or_the_metrics_token_gets_the_checks(
    anonymous: httpx.Client, acme: Caller, db_url: str, data_dir: Path, sessions: Any
) -> None:
    _live_worker(sessions)
    for headers in ({"X-API-Key": acme.key}, {"Authorization": f"Bearer {acme.key}"}):
        response = anonymous.get("/health", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy" and body["version"]
        assert body["timestamp"].endswith("Z")
        checks = body["checks"]
        assert checks["database"]["status"] == "ok"
        assert checks["database"]["backend"] == db_url.split(":")[0].split("+")[0]
        assert checks["workers"] == {"status": "ok", "alive": 1, "running_jobs": 0}
        assert checks["queue_depth"] == 0
        assert checks["disk"]["status"] in ("ok", "low") and checks["disk"]["free_bytes"] > 0
        assert str(data_dir) not in response.text  # no server path, even for a key
    wrong = anonymous.get("/health", headers={"X-API-Key": acme.key + "x"})
    assert wrong.json() == {"status": "healthy"}


def test_a_key_is_read_from_the_database_only_when_it_has_a_keys_shape(
    anonymous: httpx.Client, acme: Caller, engine: Any, sessions: Any
) -> None:
    _live_worker(sessions)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for junk in ("ts_junkjunk", "ts_JUNK!!!!_x", "ts_abcdefgh" + "_x" * 100, "nothing"):
            answer = anonymous.get("/health", headers={"X-API-Key": junk})
            assert answer.json() == {"status": "healthy"}, junk
        assert [s for s in statements if "api_keys" in s] == []
        assert "checks" in anonymous.get("/health", headers={"X-API-Key": acme.key}).json()
        assert [s for s in statements if "api_keys" in s] != []
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_metrics_token_gets_the_checks(
    settings: ApiSettings, engine: Any, serve_app: Callable[[object], str], sessions: Any
) -> None:
    _live_worker(sessions)
    url = serve_app(create_app(replace(settings, metrics_token="tok-123"), engine=engine))
    body = httpx.get(f"{url}/health", headers={"Authorization": "Bearer tok-123"}).json()
    assert body["checks"]["database"]["status"] == "ok"
    assert httpx.get(f"{url}/health").json() == {"status": "healthy"}


def test_queue_depth_and_live_workers(anonymous: httpx.Client, acme: Caller, sessions: Any) -> None:
    with sessions.begin() as s:
        for _ in range(3):
            JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}})
        s.add(WorkerRecord(id="w1", hostname="h", pid=1, heartbeat_at=utcnow()))
    body = anonymous.get("/health", headers={"X-API-Key": acme.key}).json()
    assert body["status"] == "healthy"
    assert body["checks"]["queue_depth"] == 3
    assert body["checks"]["workers"]["alive"] == 1 and body["checks"]["workers"]["status"] == "ok"


def test_degraded_while_queued_work_has_no_live_worker(
    anonymous: httpx.Client, acme: Caller, sessions: Any
) -> None:
    with sessions.begin() as s:
        JobRepository(s).create(acme.tenant_id, JobType.SWEEP, {"spec": {}})
        stale = utcnow() - timedelta(minutes=10)  # a worker that died without unregistering
        s.add(WorkerRecord(id="w0", hostname="h", pid=1, heartbeat_at=stale))
    response = anonymous.get("/health")
    assert response.status_code == 200  # the API itself serves: degraded, not unhealthy
    assert response.json() == {"status": "degraded"}
    detailed = anonymous.get("/health", headers={"X-API-Key": acme.key}).json()
    assert detailed["checks"]["workers"]["status"] == "none"
    assert "no live worker" in detailed["checks"]["workers"]["message"]
    with sessions.begin() as s:
        s.add(WorkerRecord(id="w1", hostname="h", pid=2, heartbeat_at=utcnow()))
    assert anonymous.get("/health").json() == {"status": "healthy"}


def _down_settings(tmp_path: Path) -> ApiSettings:
    # Nothing listens on port 9 of loopback: connection refused at once.
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=2"
    return ApiSettings(
        database_url=url, data_dir=tmp_path, session_secret=b"s", metrics_token="tok-123"
    )


def test_unhealthy_when_the_database_is_unreachable(
    tmp_path: Path, serve_app: Callable[[object], str]
) -> None:
    url = serve_app(create_app(_down_settings(tmp_path)))
    response = httpx.get(f"{url}/health", timeout=30)
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy"}
    assert response.headers["Retry-After"] == "5"
    token = {"Authorization": "Bearer tok-123"}  # no key can be checked: the token can
    detailed = httpx.get(f"{url}/health", headers=token, timeout=30).json()
    assert detailed["checks"]["database"]["status"] == "unreachable"


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
