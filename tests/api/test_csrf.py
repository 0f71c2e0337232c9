"""Cross-site request forgery: a browser form on another site, carrying the victim's session
cookie, must not create a job, cancel one or log out (403 ``csrf``, nothing changed); the
dashboard's own same-origin requests and API-key clients (no cookie auth) are unaffected.
Real server, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tradesweep.api.auth import SESSION_COOKIE
from tradesweep.store import JobRepository, JobType
from tradesweep.store.models import Job

Caller = Any
SWEEP = "/api/v1/strategy/sweep"
EVIL = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}


def _job_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Job)) or 0)


@contextmanager
def _browser(api: str, acme: Caller) -> Iterator[httpx.Client]:
    """A client holding only the session cookie, as a browser would after logging in."""
    with httpx.Client(base_url=api, timeout=30) as client:
        assert client.post("/api/v1/auth/login", json={"api_key": acme.key}).status_code == 200
        assert SESSION_COOKIE in client.cookies
        yield client


def _queued_job(sessions: sessionmaker[Session], tenant_id: int) -> str:
    with sessions.begin() as s:
        return JobRepository(s).create(tenant_id, JobType.SWEEP, {"spec": {}}).job.id


@pytest.mark.parametrize(
    "headers",
    [
        EVIL,
        {"Origin": "http://evil.example"},  # no Sec-Fetch-Site (older browser)
        {"Sec-Fetch-Site": "cross-site"},  # no Origin
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain or another port
        {"Origin": "null"},  # a sandboxed frame, a privacy-redirected form
    ],
)
def test_cross_site_form_posts_with_the_cookie_change_nothing(
    api: str,
    acme: Caller,
    sessions: sessionmaker[Session],
    sweep_form: dict[str, object],
    headers: dict[str, str],
) -> None:
    job_id = _queued_job(sessions, acme.tenant_id)
    with _browser(api, acme) as browser:
        created = browser.post(SWEEP, data=sweep_form, headers=headers)
        cancelled = browser.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
        logout = browser.post("/api/v1/auth/logout", headers=headers)
        for response in (created, cancelled, logout):
            assert response.status_code == 403, response.text
            body = response.json()
            assert body["error"] == "csrf"
            assert "Origin" in body["message"] and body["details"]
            assert "set-cookie" not in response.headers  # logout did not clear the cookie
        assert _job_count(sessions) == 1  # only the one made above
        assert browser.get(f"/api/v1/jobs/{job_id}").json()["status"] == "queued"
        assert browser.get("/api/v1/auth/me").status_code == 200  # the session still works


def test_same_origin_requests_with_the_cookie_work(
    api: str, acme: Caller, sessions: sessionmaker[Session], sweep_form: dict[str, object]
) -> None:
    same = {"Origin": api, "Sec-Fetch-Site": "same-origin"}
    job_id = _queued_job(sessions, acme.tenant_id)
    with _browser(api, acme) as browser:
        assert browser.post(SWEEP, data=sweep_form, headers=same).status_code == 202
        assert browser.post(SWEEP, data=sweep_form, headers={"Origin": api}).status_code == 202
        cancel = browser.post(f"/api/v1/jobs/{job_id}/cancel", headers=same)
        assert cancel.status_code in (200, 202), cancel.text
        # A GET is never a state change: a cross-site link to the dashboard still works.
        assert browser.get("/api/v1/jobs", headers=EVIL).status_code == 200
        assert browser.post("/api/v1/auth/logout", headers=same).status_code == 204
        assert browser.get("/api/v1/auth/me").status_code == 401


def test_an_api_key_without_origin_is_not_subject_to_the_check(
    acme: Caller, sessions: sessionmaker[Session], sweep_form: dict[str, object]
) -> None:
    assert acme.client.post(SWEEP, data=sweep_form).status_code == 202
    # A key is never sent by a browser on its own: even a cross-site header set is allowed.
    assert acme.client.post(SWEEP, data=sweep_form, headers=EVIL).status_code == 202
    assert _job_count(sessions) == 2


def test_a_cross_site_login_is_refused(anonymous: httpx.Client, acme: Caller) -> None:
    """Login CSRF: another site must not log the browser in under the attacker's key."""
    response = anonymous.post("/api/v1/auth/login", data={"api_key": acme.key}, headers=EVIL)
    assert response.status_code == 403 and response.json()["error"] == "csrf"
    assert SESSION_COOKIE not in anonymous.cookies
