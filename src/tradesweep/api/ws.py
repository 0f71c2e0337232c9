"""A job's progress over a WebSocket, for the backtest orchestrator's browser client, which
opens ``/api/backtest/{id}/progress``: the same events as the SSE stream (:mod:`.sse`), one
JSON text message each, ``{"id": <seq>, "event": <kind>, ...the SSE event's data}``, then a
normal close (1000) after the job's final event.

Browsers cannot set headers on a WebSocket, and an API key must never travel in a URL (logs,
history, referrers). So the handshake is authorised by, in order:

1. ``?token=``: a progress token from ``POST /api/backtest/{id}/progress-token`` (an
   authenticated call): HMAC-signed with the server's session secret, naming the job and the
   key it was issued to, valid for :data:`TOKEN_SECONDS`; the key is checked again (revoked:
   refused).
2. ``X-API-Key`` / ``Authorization: Bearer`` headers (non-browser clients).
3. The session cookie, only from this site's own pages: a ``Sec-Fetch-Site`` other than
   ``same-origin``, or an ``Origin`` other than this server's own ``http(s)://host``, is
   refused (cross-site WebSocket hijacking) by :func:`.csrf.cross_site`, the check that
   refuses cross-site state changes.

``?api_key=`` / ``?key=`` in the URL are refused outright. A refused handshake gets an HTTP
error answer (``{"error", "message", "details"}``, 401, 403 or 404) where the server supports
it, else a close (1008) before accept.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from tradesweep.api.auth import (
    SESSION_COOKIE,
    Principal,
    authenticate,
    presented_key,
    principal_for_prefix,
    read_session_token,
)
from tradesweep.api.csrf import cross_site
from tradesweep.api.errors import Unauthorized, error_response
from tradesweep.api.sse import FINISHED, TERMINAL_KINDS, event_data, final_data, read_after
from tradesweep.services.jobs import NotFound

TOKEN_SECONDS = 60
"""How long a progress token opens a WebSocket."""
_KEY_PARAMS = ("api_key", "key", "apikey", "x-api-key")


class Refused(Exception):
    """A handshake refused: the HTTP status, error code, message and fix."""

    def __init__(self, status: int, code: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fix = status, code, message, fix


def progress_token(job_id: str, key_prefix: str, secret: bytes, now: float | None = None) -> str:
    """``<job id>.<key prefix>.<expiry epoch seconds>.<hex HMAC-SHA256>``."""
    expires = int((time.time() if now is None else now) + TOKEN_SECONDS)
    payload = f"{job_id}.{key_prefix}.{expires}"
    return f"{payload}.{_mac(payload, secret)}"


def read_progress_token(token: str, job_id: str, secret: bytes) -> str | None:
    """The key prefix of a valid, unexpired token for ``job_id``, else None."""
    payload, _, mac = token.rpartition(".")
    parts = payload.split(".")
    if len(parts) != 3 or not mac or not parts[2].isdigit():
        return None
    if not hmac.compare_digest(mac.encode(), _mac(payload, secret).encode()):
        return None
    token_job, prefix, expires = parts
    if token_job != job_id or int(expires) < time.time():
        return None
    return prefix


def _mac(payload: str, secret: bytes) -> str:
    return hmac.new(secret, b"ws-progress:" + payload.encode(), hashlib.sha256).hexdigest()


def who(session: Session, websocket: WebSocket, job_id: str, secret: bytes) -> Principal:
    """The caller of a handshake (module docstring), or :class:`Refused`."""
    if any(name in websocket.query_params for name in _KEY_PARAMS):
        raise Refused(
            401,
            "unauthorized",
            "an API key in the URL is refused: URLs end up in logs and browser history",
            "get a progress token with POST /api/backtest/{id}/progress-token and open "
            "?token=..., or send the key as a header",
        )
    token = websocket.query_params.get("token")
    if token:
        prefix = read_progress_token(token, job_id, secret)
        principal = principal_for_prefix(session, prefix, via="token") if prefix else None
        if principal is None:
            raise Refused(
                401,
                "unauthorized",
                "the progress token is invalid, expired, for another job, or its key was revoked",
                f"get a new one with POST /api/backtest/{job_id}/progress-token "
                f"(valid {TOKEN_SECONDS} s)",
            )
        return principal
    if presented_key(websocket) is None and SESSION_COOKIE in websocket.cookies:
        why = cross_site(websocket)
        if why is not None:
            seen = why.get("origin") or f"Sec-Fetch-Site {why['sec_fetch_site']}"
            raise Refused(
                403,
                "csrf",
                f"cross-site WebSocket refused ({seen}): the session cookie only opens it "
                "from this site's own pages",
                "open it from the dashboard's own pages, or use a progress token",
            )
        if read_session_token(websocket.cookies[SESSION_COOKIE], secret) is None:
            raise Refused(401, "unauthorized", "the session has expired", "log in again")
    try:
        return authenticate(session, websocket, secret)
    except Unauthorized as exc:
        raise Refused(401, "unauthorized", exc.message, exc.fix or "") from None


async def refuse(websocket: WebSocket, refused: Refused) -> None:
    """Answer a refused handshake: an HTTP error where the server allows it, else 1008."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        answer = error_response(refused.status, refused.code, refused.message, {"fix": refused.fix})
        await websocket.send_denial_response(answer)
    else:
        await websocket.close(code=1008, reason=refused.message[:120])


async def stream_progress(
    websocket: WebSocket,
    job_id: str,
    *,
    find_job: Any,
    poll_seconds: float,
) -> None:
    """Authorise the handshake, then send the job's events until its final one.
    ``find_job(session, tenant_id, job_id)`` raises :class:`NotFound` for a job the caller
    may not follow."""
    state = websocket.app.state
    sessions: sessionmaker[Session] = state.sessions
    secret: bytes = state.settings.session_secret

    def authorise() -> None:
        with sessions.begin() as session:
            principal = who(session, websocket, job_id, secret)
            find_job(session, principal.tenant_id, job_id)

    try:
        async with state.write_gate:
            await run_in_threadpool(authorise)
    except Refused as refused:
        await refuse(websocket, refused)
        return
    except NotFound as exc:
        await refuse(websocket, Refused(404, "not_found", exc.message, exc.fix or ""))
        return
    await websocket.accept()
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:

            async def watch() -> None:  # the client going away ends the stream
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
                scope.cancel()

            group.start_soon(watch)
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await _pump(websocket, sessions, state, job_id, poll_seconds)
            scope.cancel()
    if websocket.application_state is WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=1000)


async def _pump(
    websocket: WebSocket,
    sessions: sessionmaker[Session],
    state: Any,
    job_id: str,
    poll_seconds: float,
) -> None:
    after = 0
    while not state.stopping.is_set():
        async with state.write_gate:
            poll = await run_in_threadpool(read_after, sessions, job_id, after)
        for event in poll.events:
            data = event_data(event.kind, event.payload)
            await websocket.send_json({**data, "id": event.seq, "event": event.kind})
            after = event.seq
            if event.kind in TERMINAL_KINDS:
                return
        if poll.status is None:
            return
        if poll.status in FINISHED:
            await websocket.send_json(final_data(poll.status, poll.error))
            return
        if not poll.events:
            await anyio.sleep(poll_seconds)
