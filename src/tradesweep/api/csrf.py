"""Cross-site request forgery: a page on another site must not make a browser change state
with the session cookie it holds (nor open a WebSocket with it: :mod:`.ws` asks
:func:`cross_site` too).

A state change (POST, PUT, PATCH, DELETE) authenticated by the session cookie (no API key in
the request), and every login, must come from this site's own pages: ``Sec-Fetch-Site``,
when the browser sends it, is ``same-origin`` (or ``none``, typed by the user), and
``Origin``, when sent, is this server's own ``scheme://host[:port]`` as the request reached
uvicorn (a trusted proxy's ``X-Forwarded-Proto`` included; the proxy must pass ``Host``
through). Anything else is answered 403 ``csrf`` before a route, a body read or a database
transaction. A request with neither header does not come from a current browser's form or
script, so it passes; an API key is never sent by a browser on its own, so key-authenticated
requests are not checked (docs/security.md).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tradesweep.api.auth import SESSION_COOKIE, presented_key
from tradesweep.api.errors import error_response

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATH = "/api/v1/auth/login"
_SAME_SITE = ("same-origin", "none")
_PAGE_SCHEMES = {"ws": "http", "wss": "https"}
"""A WebSocket's scheme, and that of the pages that open it (their ``Origin``)."""
_FIX = (
    "send it from the dashboard's own pages (same origin), or authenticate with an API key "
    "('X-API-Key: ts_...') instead of the session cookie"
)


def cross_site(connection: HTTPConnection) -> dict[str, str] | None:
    """What marks the request as cross-site (the headers that say so), else None."""
    headers = connection.headers
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() not in _SAME_SITE:
        return {"sec_fetch_site": fetch_site[:40]}
    origin = headers.get("origin")
    if origin is not None:
        scheme = _PAGE_SCHEMES.get(connection.url.scheme, connection.url.scheme)
        own = f"{scheme}://{headers.get('host', '')}".lower()
        if origin.strip().lower() != own:
            return {"origin": origin[:200], "expected_origin": own[:200]}
    return None


def checked(connection: HTTPConnection) -> bool:
    """Whether the request is one the guard checks: a state change by the session cookie
    alone, or a login."""
    if connection.scope.get("method") not in UNSAFE_METHODS:
        return False
    if connection.url.path == LOGIN_PATH:
        return True
    return SESSION_COOKIE in connection.cookies and presented_key(connection) is None


class CsrfGuard:
    """ASGI middleware: 403 ``{"error": "csrf", ...}`` for a cross-site state change made
    with the session cookie (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection = HTTPConnection(scope)
            why = cross_site(connection) if checked(connection) else None
            if why is not None:
                origin = why.get("origin") or f"Sec-Fetch-Site {why['sec_fetch_site']}"
                message = (
                    f"cross-site request refused (Origin/Sec-Fetch-Site: {origin}): a state "
                    "change made with the session cookie must come from this site's own pages"
                )
                await error_response(403, "csrf", message, {**why, "fix": _FIX})(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)
