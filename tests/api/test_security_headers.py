"""What the browser is told: the dashboard's Content-Security-Policy (no inline script, no
framing), nosniff everywhere, and a session cookie that is ``Secure`` over HTTPS
(``TRADESWEEP_COOKIE_SECURE`` auto/true/false; auto follows the scheme uvicorn saw, a
trusted proxy's ``X-Forwarded-Proto`` included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tradesweep.api import ApiSettings, create_app
from tradesweep.api.settings import cookie_secure_from_env
from tradesweep.errors import TradesweepError
from tradesweep.web import STATIC_DIR

Caller = Any


def _directives(policy: str) -> dict[str, str]:
    return {
        part.split()[0]: part.partition(" ")[2]
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def test_the_dashboard_sends_a_csp_without_inline_script_and_no_framing(
    anonymous: httpx.Client,
) -> None:
    page = anonymous.get("/")
    assert page.status_code == 200
    policy = _directives(page.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # The policy holds because the page has no inline script or handler to allow.
    html = (STATIC_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_api_answers_and_assets_are_not_sniffed_or_framed(
    anonymous: httpx.Client, acme: Caller
) -> None:
    for response in (
        anonymous.get("/health"),
        acme.client.get("/api/v1/jobs"),
        anonymous.get("/api/v1/jobs"),  # an error too
        anonymous.get("/assets/app.css"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert response.headers["X-Frame-Options"] == "DENY", response.url


def _login_cookie(url: str, key: str, **headers: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/login", json={"api_key": key}, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("mode", "forwarded", "secure"),
    [
        (None, None, False),  # auto, plain HTTP
        (None, "https", True),  # auto behind a TLS-terminating proxy on loopback (trusted)
        (True, None, True),
        (False, "https", False),
    ],
)
def test_the_session_cookie_is_secure_over_https(
    settings: ApiSettings,
    engine: Engine,
    serve_app: Callable[[object], str],
    acme: Caller,
    mode: bool | None,
    forwarded: str | None,
    secure: bool,
) -> None:
    url = serve_app(create_app(replace(settings, cookie_secure=mode), engine=engine))
    headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
    cookie = _login_cookie(url, acme.key, **headers)
    assert ("; secure" in cookie.lower()) is secure, cookie
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()


def test_cookie_secure_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in (("", None), ("auto", None), ("true", True), ("0", False)):
        monkeypatch.setenv("TRADESWEEP_COOKIE_SECURE", raw)
        assert cookie_secure_from_env() is expected
    monkeypatch.setenv("TRADESWEEP_COOKIE_SECURE", "sometimes")
    with pytest.raises(TradesweepError, match="auto, true or false"):
        cookie_secure_from_env()
