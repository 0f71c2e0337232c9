"""Keys in either header, browser sessions, revocation, and tenants kept apart."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api.auth import SESSION_COOKIE, read_session_token, session_token
from tradesweep.store import ApiKeyRepository

Caller = Any
SWEEP = "/api/v1/strategy/sweep"


def test_health_and_docs_need_no_key(anonymous: httpx.Client) -> None:
    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/docs").status_code == 200
    assert "/api/v1/strategy/sweep" in anonymous.get("/openapi.json").json()["paths"]


def test_every_api_endpoint_needs_a_key(anonymous: httpx.Client) -> None:
    for method, path in [
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/x"),
        ("POST", "/api/v1/jobs/x/cancel"),
        ("POST", SWEEP),
        ("POST", "/api/v1/backtests"),
        ("POST", "/api/v1/walkforward"),
        ("GET", "/api/v1/sweeps/x/best"),
        ("GET", "/api/v1/sweeps/x/results"),
        ("GET", "/api/v1/backtests/x"),
        ("GET", "/api/v1/auth/me"),
    ]:
        response = anonymous.request(method, path)
        assert response.status_code == 401, (method, path)
        body = response.json()
        assert body["error"] == "unauthorized"
        assert "X-API-Key" in body["message"] and "tradesweep keys create" in body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_key_in_either_header(anonymous: httpx.Client, acme: Caller) -> None:
    as_header = anonymous.get("/api/v1/auth/me", headers={"X-API-Key": acme.key})
    as_bearer = anonymous.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {acme.key}"})
    assert as_header.status_code == as_bearer.status_code == 200
    assert as_header.json()["tenant"] == "acme" and as_header.json()["via"] == "key"
    assert as_header.json()["expires_at"] is None  # a key does not expire


def test_wrong_key_is_refused(anonymous: httpx.Client, acme: Caller) -> None:
    for key in (acme.key + "x", acme.key[:-1], "ts_nothing", "not-a-key", ""):
        response = anonymous.get("/api/v1/jobs", headers={"X-API-Key": key})
        assert response.status_code == 401, key


def test_revoked_key_is_refused(
    anonymous: httpx.Client, acme: Caller, sessions: sessionmaker[Session]
) -> None:
    assert acme.client.get("/api/v1/jobs").status_code == 200
    with sessions.begin() as s:
        ApiKeyRepository(s).revoke(acme.key[:11])
    response = acme.client.get("/api/v1/jobs")
    assert response.status_code == 401
    assert "invalid or revoked" in response.json()["message"]


def test_login_sets_an_httponly_cookie_that_authenticates(
    anonymous: httpx.Client, acme: Caller
) -> None:
    login = anonymous.post("/api/v1/auth/login", json={"api_key": acme.key})
    assert login.status_code == 200, login.text
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert acme.key not in cookie  # the cookie never carries the key
    me = anonymous.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["via"] == "session"
    assert me.json()["expires_at"] == login.json()["expires_at"] is not None
    assert anonymous.get("/api/v1/jobs").status_code == 200

    out = anonymous.post("/api/v1/auth/logout")
    assert out.status_code == 204
    assert anonymous.get("/api/v1/auth/me").status_code == 401


def test_login_with_a_form_and_with_a_bad_key(anonymous: httpx.Client, acme: Caller) -> None:
    assert anonymous.post("/api/v1/auth/login", data={"api_key": acme.key}).status_code == 200
    bad = anonymous.post("/api/v1/auth/login", json={"api_key": "ts_abcdefgh_nope"})
    assert bad.status_code == 401
    missing = anonymous.post("/api/v1/auth/login", json={})
    assert missing.status_code == 422 and missing.json()["details"]["field"] == "api_key"


def test_tampered_or_expired_session_is_refused(
    anonymous: httpx.Client, acme: Caller, settings: Any
) -> None:
    prefix = acme.key[:11]
    forged = session_token(prefix, 2_000_000_000, b"another secret")
    expired = session_token(prefix, 1_000, settings.session_secret)
    for token in (forged, expired, "garbage", f"{prefix}.9999999999.00"):
        response = anonymous.get("/api/v1/jobs", headers={"Cookie": f"{SESSION_COOKIE}={token}"})
        assert response.status_code == 401, token
        assert "log in again" in response.json()["message"]


def test_revoking_the_key_ends_its_sessions(
    anonymous: httpx.Client, acme: Caller, sessions: sessionmaker[Session]
) -> None:
    anonymous.post("/api/v1/auth/login", json={"api_key": acme.key})
    assert anonymous.get("/api/v1/jobs").status_code == 200
    with sessions.begin() as s:
        ApiKeyRepository(s).revoke(acme.key[:11])
    assert anonymous.get("/api/v1/jobs").status_code == 401


def test_session_token_round_trip() -> None:
    token = session_token("ts_abcdefgh", 2_000, b"s")
    assert read_session_token(token, b"s", now=1_999) == "ts_abcdefgh"
    assert read_session_token(token, b"s", now=2_001) is None
    assert read_session_token(token, b"t", now=1_999) is None
    assert read_session_token(token.replace("2000", "3000"), b"s", now=1_999) is None


def test_another_tenants_job_is_404(acme: Caller, make_caller: Any, sweep_json: dict) -> None:
    job_id = acme.client.post(SWEEP, json=sweep_json).json()["job_id"]
    other = make_caller("globex")
    for response in (
        other.client.get(f"/api/v1/jobs/{job_id}"),
        other.client.post(f"/api/v1/jobs/{job_id}/cancel"),
        other.client.get(f"/api/v1/sweeps/{job_id}/best"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    assert other.client.get("/api/v1/jobs").json()["jobs"] == []
    assert acme.client.get(f"/api/v1/jobs/{job_id}").status_code == 200
