"""Browser sessions: log in with an API key, get an HttpOnly cookie; log out; who am I."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from tradesweep.api.auth import SESSION_COOKIE, principal_for_key, session_token
from tradesweep.api.deps import BodyDep, PrincipalDep, SessionDep, SettingsDep, validated
from tradesweep.api.openapi import AUTHED, BODY, errors, request_body
from tradesweep.api.schemas import LoginIn, SessionOut

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/login", response_model=SessionOut, responses=BODY, openapi_extra=request_body(LoginIn)
)
def login(
    request: Request, body: BodyDep, session: SessionDep, settings: SettingsDep, response: Response
) -> SessionOut:
    """Check the key (JSON or form field ``api_key``) and set the session cookie (HttpOnly,
    SameSite=Lax, Secure over HTTPS). A login from another site's page is refused (403
    ``csrf``)."""
    login = validated(LoginIn, body)
    principal = principal_for_key(session, login.api_key)
    expires = int(time.time()) + settings.session_seconds
    response.set_cookie(
        SESSION_COOKIE,
        session_token(principal.key_prefix, expires, settings.session_secret),
        max_age=settings.session_seconds,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings.cookie_secure),
        path="/",
    )
    return SessionOut(
        tenant=principal.tenant_name,
        key_prefix=principal.key_prefix,
        via="session",
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


@router.post("/logout", status_code=204, responses=errors())
def logout(request: Request, settings: SettingsDep) -> Response:
    """Clear the session cookie (refused, 403 ``csrf``, from another site's page)."""
    response = Response(status_code=204)
    secure = _secure(request, settings.cookie_secure)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    return response


@router.get("/me", response_model=SessionOut, responses=AUTHED)
def me(principal: PrincipalDep) -> SessionOut:
    return SessionOut(
        tenant=principal.tenant_name,
        key_prefix=principal.key_prefix,
        via=principal.via,
        expires_at=principal.expires_at,  # when the session ends; null for a key
    )


def _secure(request: Request, configured: bool | None) -> bool:
    """``TRADESWEEP_COOKIE_SECURE`` when set, else whether the request came over HTTPS (as
    uvicorn saw it: a trusted proxy's ``X-Forwarded-Proto`` included)."""
    return request.url.scheme == "https" if configured is None else configured
